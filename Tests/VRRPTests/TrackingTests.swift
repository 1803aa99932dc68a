import Testing

@testable import VRRP

@Suite("Tracking: vrrp_script rise and fall")
struct ScriptHealthTests {
    @Test("Unknown until the first result; one success is enough when not init_fail")
    func firstResult() {
        var good = ScriptHealth(rise: 3, fall: 2, initFail: false)
        #expect(good.status == .unknown)
        let result1 = good.record(success: true)
        #expect(result1)
        #expect(good.status == .good)
        var bad = ScriptHealth(rise: 3, fall: 2, initFail: false)
        bad.record(success: false)
        #expect(bad.status == .failed)
    }

    @Test("fall consecutive failures make a good script fail; a success in between resets the count")
    func fall() {
        var health = ScriptHealth(rise: 2, fall: 3, initFail: false)
        health.record(success: true)
        let result2 = health.record(success: false)
        #expect(!result2)
        let result3 = health.record(success: false)
        #expect(!result3)
        #expect(health.status == .good)
        health.record(success: true)
        let result4 = health.record(success: false)
        #expect(!result4)
        let result5 = health.record(success: false)
        #expect(!result5)
        let result6 = health.record(success: false)
        #expect(result6)
        #expect(health.status == .failed)
    }

    @Test("rise consecutive successes make a failed script good; init_fail starts failed")
    func rise() {
        var health = ScriptHealth(rise: 3, fall: 1, initFail: true)
        #expect(health.status == .failed)
        let result7 = health.record(success: true)
        #expect(!result7)
        let result8 = health.record(success: true)
        #expect(!result8)
        let result9 = health.record(success: true)
        #expect(result9)
        #expect(health.status == .good)
        let result10 = health.record(success: false)
        #expect(result10)
        let result11 = health.record(success: true)
        #expect(!result11)
        health.record(success: false)
        health.record(success: true)
        health.record(success: true)
        #expect(health.status == .failed)
    }
}

@Suite("Tracking: effective priority")
struct TrackedPriorityTests {
    func script(_ weight: Int, up: Bool?, reverse: Bool = false) -> TrackedItem {
        TrackedItem(
            kind: .script, name: "chk", weight: weight, reverse: reverse, value: up.map { .up($0) } ?? .unknown)
    }

    @Test("Positive weight adds while up; negative weight subtracts while down")
    func weights() {
        #expect(TrackedPriority.evaluate(base: 100, items: [script(20, up: true)]).total == 120)
        #expect(TrackedPriority.evaluate(base: 100, items: [script(20, up: false)]).total == 100)
        #expect(TrackedPriority.evaluate(base: 100, items: [script(-30, up: true)]).total == 100)
        #expect(TrackedPriority.evaluate(base: 100, items: [script(-30, up: false)]).total == 70)
        let both = TrackedPriority.evaluate(base: 100, items: [script(20, up: true), script(-30, up: false)])
        #expect(both.total == 90 && both.fault == nil)
    }

    @Test("reverse inverts the sense of the weight")
    func reverse() {
        #expect(TrackedPriority.evaluate(base: 100, items: [script(20, up: true, reverse: true)]).total == 80)
        #expect(TrackedPriority.evaluate(base: 100, items: [script(20, up: false, reverse: true)]).total == 100)
        #expect(TrackedPriority.evaluate(base: 100, items: [script(-30, up: false, reverse: true)]).total == 130)
    }

    @Test("Weight 0: down means FAULT (up, when reversed); unknown moves nothing")
    func faults() {
        let down = TrackedPriority.evaluate(base: 100, items: [script(0, up: false)])
        #expect(down.total == 100 && down.fault == "script chk failed")
        #expect(TrackedPriority.evaluate(base: 100, items: [script(0, up: true)]).fault == nil)
        #expect(TrackedPriority.evaluate(base: 100, items: [script(0, up: true, reverse: true)]).fault != nil)
        let unknown = TrackedPriority.evaluate(base: 100, items: [script(0, up: nil), script(-50, up: nil)])
        #expect(unknown.total == 100 && unknown.fault == nil)
        let link = TrackedItem(kind: .interface, name: "eth1", weight: 0, reverse: false, value: .up(false))
        #expect(TrackedPriority.evaluate(base: 100, items: [link]).fault == "interface eth1 down")
    }

    @Test("A tracked file moves priority by its number times the weight; -254 or less is FAULT")
    func files() {
        func file(_ number: Int, weight: Int = 1, reverse: Bool = false) -> TrackedItem {
            TrackedItem(kind: .file, name: "f", weight: weight, reverse: reverse, value: .number(number))
        }
        #expect(TrackedPriority.evaluate(base: 100, items: [file(-20)]).total == 80)
        #expect(TrackedPriority.evaluate(base: 100, items: [file(5, weight: 3)]).total == 115)
        #expect(TrackedPriority.evaluate(base: 100, items: [file(5, weight: 3, reverse: true)]).total == 85)
        #expect(TrackedPriority.evaluate(base: 100, items: [file(-254)]).fault != nil)
        #expect(TrackedPriority.evaluate(base: 100, items: [file(7, weight: 0)]).fault != nil)
        #expect(TrackedPriority.evaluate(base: 100, items: [file(0, weight: 0)]).fault == nil)
    }

    @Test("The router clamps the total to 1...254 and leaves an address owner at 255")
    func clamping() {
        var router = VirtualRouter(settings: settings(priority: 100))
        _ = router.setTotalPriority(400, now: at(0))
        #expect(router.effectivePriority == 254)
        _ = router.setTotalPriority(-50, now: at(0))
        #expect(router.effectivePriority == 1)
        var owner = VirtualRouter(settings: settings(priority: 255))
        let ownerActions = owner.setTotalPriority(100, now: at(0))
        #expect(ownerActions.isEmpty)
        #expect(owner.effectivePriority == 255)
    }
}

@Suite("Tracking: sync groups")
struct SyncGroupTests {
    @Test("A member may go MASTER only when every other member wants it too, or the group is MASTER already")
    func mayGoMaster() {
        var group = SyncGroupState(name: "G", members: ["A", "B"])
        #expect(!group.mayGoMaster("A") { $0 == "A" })
        #expect(group.mayGoMaster("A") { _ in true })
        _ = group.memberChanged(to: .master)
        #expect(group.mayGoMaster("B") { _ in false })
    }

    @Test("MASTER, BACKUP and FAULT spread; the group's own state changes once")
    func propagation() {
        var group = SyncGroupState(name: "G", members: ["A", "B"])
        let first = group.memberChanged(to: .backup)
        #expect(first.0 == .none && first.groupChanged)
        let master = group.memberChanged(to: .master)
        #expect(master.0 == .allMaster && master.groupChanged)
        let again = group.memberChanged(to: .master)
        #expect(again.0 == .none && !again.groupChanged)
        let result12 = group.memberChanged(to: .backup).0 == .allBackup
        #expect(result12)
        let result13 = group.memberChanged(to: .fault).0 == .allFault
        #expect(result13)
        let result14 = group.memberChanged(to: .fault).0 == .none
        #expect(result14)
        #expect(group.state == .fault)
    }

    @Test("A backup held back by its group keeps listening instead of going MASTER")
    func heldBack() {
        var router = VirtualRouter(settings: settings(priority: 100))
        router.primaryAddress = ip("198.51.100.1")
        _ = router.start(now: at(0))
        _ = router.timerFired(.masterDown, now: at(4), syncAllowsMaster: false)
        #expect(router.state == .backup && router.wantsMaster)
        let actions = router.syncToMaster(now: at(5))
        #expect(router.state == .master)
        #expect(actions.contains { if case .sendAdvertisement = $0 { true } else { false } })
        _ = router.syncToBackup(now: at(6))
        #expect(router.state == .backup)
    }
}
