import Testing
import VigilConfig

@testable import VRRP

/// A manual clock: every test states the instants it means.
func at(_ seconds: Double) -> MonotonicTime { MonotonicTime(.microseconds(Int64((seconds * 1e6).rounded()))) }

func settings(
    priority: Int = 100, version: Advertisement.Version = .v2, interval: Duration = .seconds(1),
    wantsMaster: Bool = false, nopreempt: Bool = false, preemptDelay: Duration = .zero,
    startupDelay: Duration = .zero
) -> VirtualRouter.Settings {
    VirtualRouter.Settings(
        name: "VI_1", version: version, virtualRouterID: 50, priority: priority, advertisementInterval: interval,
        wantsMaster: wantsMaster, nopreempt: nopreempt, preemptDelay: preemptDelay, startupDelay: startupDelay)
}

func advert(priority: Int, version: Advertisement.Version = .v2, interval: Duration = .seconds(1)) -> Advertisement {
    Advertisement(
        version: version, virtualRouterID: 50, priority: UInt8(priority), interval: interval,
        addresses: [ip("198.51.100.100")])
}

let peer = ip("198.51.100.2")
let lowerPeer = ip("198.51.100.0")

/// A router that has become master at `at(10)` (priority 150 unless said otherwise).
func masterRouter(
    priority: Int = 150, version: Advertisement.Version = .v2, interval: Duration = .seconds(1)
)
    -> VirtualRouter
{
    var router = VirtualRouter(settings: settings(priority: priority, version: version, interval: interval))
    router.primaryAddress = ip("198.51.100.1")
    _ = router.start(now: at(0))
    _ = router.timerFired(.masterDown, now: at(10))
    return router
}

@Suite("VirtualRouter: timers")
struct TimerArithmeticTests {
    @Test("v2 Skew_Time is (256 - priority)/256 s and Master_Down_Interval 3 intervals plus skew")
    func v2Timers() {
        let router = VirtualRouter(settings: settings(priority: 100))
        #expect(router.skewTime == .microseconds(609_375))
        #expect(router.masterDownInterval == .microseconds(3_609_375))
        let high = VirtualRouter(settings: settings(priority: 150))
        #expect(high.masterDownInterval == .microseconds(3_414_062))
    }

    @Test("v3 skew scales with the master's interval, in keepalived's integer microseconds")
    func v3Timers() {
        let second = VirtualRouter(settings: settings(priority: 100, version: .v3))
        #expect(second.skewTime == .microseconds(609_375))
        let fast = VirtualRouter(settings: settings(priority: 100, version: .v3, interval: .milliseconds(100)))
        #expect(fast.skewTime == .microseconds(60_937))
        #expect(fast.masterDownInterval == .microseconds(360_937))
    }
}

@Suite("VirtualRouter: start-up")
struct StartupTests {
    @Test("a backup listens for a full Master_Down_Interval")
    func backupStart() {
        var router = VirtualRouter(settings: settings(priority: 100))
        let actions = router.start(now: at(1))
        #expect(
            actions == [
                .stateChanged(from: .initialize, to: .backup, reason: .startup),
                .arm(.masterDown, at: at(1) + .microseconds(3_609_375)),
            ])
        #expect(router.state == .backup)
    }

    @Test("state MASTER below 255 still waits like a backup (keepalived)")
    func nonOwnerMasterWaits() {
        var router = VirtualRouter(settings: settings(priority: 150, wantsMaster: true))
        let actions = router.start(now: at(0))
        #expect(actions.contains(.arm(.masterDown, at: at(0) + .microseconds(3_414_062))))
        #expect(router.state == .backup)
    }

    @Test("the address owner takes over at once: advert, addresses, announcements, timers")
    func ownerTakesOver() {
        var router = VirtualRouter(settings: settings(priority: 255, wantsMaster: true))
        #expect(router.start(now: at(0)) == [.arm(.masterDown, at: at(0))])
        let actions = router.timerFired(.masterDown, now: at(0))
        #expect(
            actions == [
                .sendAdvertisement(priority: 255),
                .addVirtualAddresses,
                .announceAddresses(repeat: 5),
                .stateChanged(from: .initialize, to: .master, reason: .startup),
                .arm(.advertisement, at: at(1)),
                .arm(.delayedAnnouncement, at: at(5)),
            ])
    }

    @Test("vrrp_startup_delay pushes the first takeover out")
    func startupDelay() {
        var router = VirtualRouter(settings: settings(priority: 100, startupDelay: .seconds(10)))
        #expect(router.start(now: at(0)).last == .arm(.masterDown, at: at(10) + .microseconds(3_609_375)))
    }

    @Test("a router that starts faulted enters FAULT and arms nothing")
    func faultAtStart() {
        var router = VirtualRouter(settings: settings())
        _ = router.setFault("interface eth0 down", now: at(0))
        #expect(
            router.start(now: at(0)) == [
                .stateChanged(from: .initialize, to: .fault, reason: .fault("interface eth0 down"))
            ])
    }
}

@Suite("VirtualRouter: backup")
struct BackupTests {
    func started(_ settings: VirtualRouter.Settings) -> VirtualRouter {
        var router = VirtualRouter(settings: settings)
        _ = router.start(now: at(0))
        return router
    }

    @Test("an advert of higher or equal priority restarts Master_Down_Interval from its arrival")
    func acceptsHigherAndEqual() {
        var router = started(settings(priority: 100))
        #expect(
            router.received(advert(priority: 150), from: peer, now: at(2)) == [
                .arm(.masterDown, at: at(2) + .microseconds(3_609_375))
            ])
        #expect(
            router.received(advert(priority: 100), from: peer, now: at(3)) == [
                .arm(.masterDown, at: at(3) + .microseconds(3_609_375))
            ])
        #expect(router.masterAddress == peer)
        #expect(router.masterPriority == 100)
    }

    @Test("a lower priority is discarded when preempting: the deadline stays and we take over")
    func discardsLower() {
        var router = started(settings(priority: 150))
        let deadline = router.deadlines[.masterDown]
        #expect(
            router.received(advert(priority: 100), from: peer, now: at(2)) == [
                .note(.lowerPriorityDiscarded(from: peer, priority: 100))
            ])
        #expect(router.deadlines[.masterDown] == deadline)
        #expect(router.timerFired(.masterDown, now: deadline!).contains(.sendAdvertisement(priority: 150)))
        #expect(router.state == .master)
    }

    @Test("with nopreempt a lower priority master is accepted and kept")
    func nopreemptAcceptsLower() {
        var router = started(settings(priority: 150, nopreempt: true))
        let actions = router.received(advert(priority: 100), from: peer, now: at(2))
        #expect(actions == [.arm(.masterDown, at: at(2) + .microseconds(3_414_062))])
    }

    @Test("priority 0 shortens the wait to Skew_Time")
    func priorityZero() {
        var router = started(settings(priority: 100))
        let actions = router.received(advert(priority: 0), from: peer, now: at(2))
        #expect(actions == [.note(.backupReceivedPriorityZero), .arm(.masterDown, at: at(2) + .microseconds(609_375))])
    }

    @Test("v3: the master's interval is adopted from accepted adverts only, and changes Master_Down_Interval")
    func intervalAdoption() {
        var router = started(settings(priority: 100, version: .v3))
        let fast = advert(priority: 150, version: .v3, interval: .milliseconds(100))
        let actions = router.received(fast, from: peer, now: at(2))
        #expect(actions.first == .note(.intervalAdopted(from: .seconds(1), to: .milliseconds(100))))
        #expect(actions.last == .arm(.masterDown, at: at(2) + .microseconds(360_937)))
        #expect(router.masterAdvertisementInterval == .milliseconds(100))
        var other = started(settings(priority: 100, version: .v3))
        _ = other.received(advert(priority: 0, version: .v3, interval: .milliseconds(100)), from: peer, now: at(2))
        _ = other.received(advert(priority: 50, version: .v3, interval: .milliseconds(100)), from: peer, now: at(2))
        #expect(other.masterAdvertisementInterval == .seconds(1))
    }

    @Test("preempt_delay: lower priority is accepted until the delay has passed, then we take over")
    func preemptDelay() {
        var router = started(settings(priority: 150, preemptDelay: .seconds(5)))
        let first = router.received(advert(priority: 100), from: peer, now: at(1))
        #expect(first.contains(.note(.preemptDelayStarted(until: at(6)))))
        #expect(first.last == .arm(.masterDown, at: at(1) + .microseconds(3_414_062)))
        // Still inside the window: accepted.
        #expect(
            router.received(advert(priority: 100), from: peer, now: at(5)).last
                == .arm(.masterDown, at: at(5) + .microseconds(3_414_062)))
        // After it: discarded, so the running deadline wins.
        #expect(
            router.received(advert(priority: 100), from: peer, now: at(6.5)) == [
                .note(.lowerPriorityDiscarded(from: peer, priority: 100))
            ])
        #expect(router.timerFired(.masterDown, now: at(5) + .microseconds(3_414_062)).contains(.addVirtualAddresses))
    }

    @Test("a priority change moves the takeover deadline by the change in skew")
    func priorityChangeMovesDeadline() {
        var router = started(settings(priority: 100))
        let actions = router.setTotalPriority(200, now: at(1))
        #expect(
            actions == [
                .note(.priorityChanged(from: 100, to: 200)), .arm(.masterDown, at: at(0) + .microseconds(3_218_750)),
            ])
        #expect(router.setTotalPriority(999, now: at(1)).first == .note(.priorityChanged(from: 200, to: 254)))
        #expect(router.setTotalPriority(-50, now: at(1)).first == .note(.priorityChanged(from: 254, to: 1)))
        var owner = VirtualRouter(settings: settings(priority: 255, wantsMaster: true))
        #expect(owner.setTotalPriority(100, now: at(0)).isEmpty, "the owner's priority never moves")
    }
}

@Suite("VirtualRouter: master")
struct MasterTests {
    @Test("a master advertises every interval, exactly")
    func advertises() {
        var router = masterRouter()
        #expect(
            router.timerFired(.advertisement, now: at(11)) == [
                .sendAdvertisement(priority: 150), .arm(.advertisement, at: at(12)),
            ])
        #expect(
            router.timerFired(.advertisement, now: at(12)) == [
                .sendAdvertisement(priority: 150), .arm(.advertisement, at: at(13)),
            ])
        #expect(router.timerFired(.delayedAnnouncement, now: at(15)) == [.announceAddresses(repeat: 5)])
    }

    @Test("a higher priority makes the master a backup: addresses go, no advert, timers swap")
    func yieldsToHigher() {
        var router = masterRouter()
        let actions = router.received(advert(priority: 200), from: peer, now: at(10.5))
        #expect(
            actions == [
                .removeVirtualAddresses, .cancel(.advertisement), .cancel(.delayedAnnouncement),
                .stateChanged(from: .master, to: .backup, reason: .higherPriority(peer, priority: 200)),
                .arm(.masterDown, at: at(10.5) + .microseconds(3_414_062)),
            ])
        #expect(!actions.contains(.sendAdvertisement(priority: 150)))
    }

    @Test("equal priority: the higher address wins")
    func equalPriority() {
        var router = masterRouter()
        let fromHigher = router.received(advert(priority: 150), from: peer, now: at(10.5))
        #expect(
            fromHigher.contains(.stateChanged(from: .master, to: .backup, reason: .equalPriorityHigherAddress(peer))))
        var other = masterRouter()
        let fromLower = other.received(advert(priority: 150), from: lowerPeer, now: at(10.5))
        #expect(other.state == .master)
        #expect(fromLower.contains(.sendAdvertisement(priority: 150)))
    }

    @Test("a lower priority gets an advert at once and a fresh round of announcements")
    func answersLower() {
        var router = masterRouter()
        let actions = router.received(advert(priority: 100), from: peer, now: at(10.5))
        #expect(
            actions == [
                .note(.masterReceivedLowerPriority(from: peer, priority: 100, ours: 150, forcingElection: true)),
                .sendAdvertisement(priority: 150), .arm(.advertisement, at: at(11.5)),
                .announceAddresses(repeat: 5), .arm(.lowerPriorityAnnouncement, at: at(15.5)),
            ])
    }

    @Test("a master answers a priority-0 advert")
    func answersPriorityZero() {
        var router = masterRouter()
        #expect(
            router.received(advert(priority: 0), from: peer, now: at(10.5)) == [
                .note(.masterReceivedPriorityZero), .sendAdvertisement(priority: 150),
                .arm(.advertisement, at: at(11.5)),
            ])
    }

    @Test("v3: yielding adopts the new master's interval for Master_Down_Interval")
    func yieldsAdoptsInterval() {
        var router = masterRouter(version: .v3)
        let actions = router.received(
            advert(priority: 200, version: .v3, interval: .milliseconds(100)), from: peer, now: at(10.5))
        #expect(actions.last == .arm(.masterDown, at: at(10.5) + .microseconds(300_000 + 41_406)))
    }

    @Test("two address owners: the local one steps down to 254 and yields")
    func twoOwners() {
        var router = VirtualRouter(settings: settings(priority: 255, wantsMaster: true))
        router.primaryAddress = ip("198.51.100.1")
        _ = router.start(now: at(0))
        _ = router.timerFired(.masterDown, now: at(0))
        let actions = router.received(advert(priority: 255), from: lowerPeer, now: at(0.5))
        #expect(actions.first == .note(.bothAddressOwners))
        #expect(router.state == .backup)
        #expect(router.effectivePriority == 254)
    }
}

@Suite("VirtualRouter: fault and stop")
struct FaultTests {
    @Test("a master that faults resigns with priority 0 and gives up its addresses")
    func masterFaults() {
        var router = masterRouter()
        let actions = router.setFault("interface eth0 down", now: at(11))
        #expect(
            actions == [
                .sendAdvertisement(priority: 0), .removeVirtualAddresses, .cancel(.advertisement),
                .cancel(.delayedAnnouncement),
                .stateChanged(from: .master, to: .fault, reason: .fault("interface eth0 down")),
            ])
        #expect(router.received(advert(priority: 200), from: peer, now: at(12)).isEmpty, "FAULT ignores adverts")
        #expect(router.timerFired(.advertisement, now: at(12)).isEmpty, "no stale timer fires in FAULT")
    }

    @Test("recovering returns to BACKUP and waits a full Master_Down_Interval")
    func recovers() {
        var router = masterRouter()
        _ = router.setFault("interface eth0 down", now: at(11))
        #expect(
            router.setFault(nil, now: at(20)) == [
                .stateChanged(from: .fault, to: .backup, reason: .recovered),
                .arm(.masterDown, at: at(20) + .microseconds(3_414_062)),
            ])
    }

    @Test("the address owner recovers straight into MASTER")
    func ownerRecovers() {
        var router = VirtualRouter(settings: settings(priority: 255, wantsMaster: true))
        _ = router.start(now: at(0))
        _ = router.setFault("down", now: at(1))
        #expect(router.state == .fault)
        #expect(router.setFault(nil, now: at(2)).contains(.stateChanged(from: .fault, to: .master, reason: .recovered)))
    }

    @Test("a backup that faults just stops listening")
    func backupFaults() {
        var router = VirtualRouter(settings: settings())
        _ = router.start(now: at(0))
        #expect(
            router.setFault("script chk failed", now: at(1)) == [
                .cancel(.masterDown), .stateChanged(from: .backup, to: .fault, reason: .fault("script chk failed")),
            ])
    }

    @Test("stopping a master sends priority 0 and removes the addresses; a backup just stops")
    func stop() {
        var router = masterRouter()
        let actions = router.stop(now: at(11))
        #expect(actions.prefix(2) == [.sendAdvertisement(priority: 0), .removeVirtualAddresses])
        #expect(actions.last == .stateChanged(from: .master, to: .stopped, reason: .stop))
        #expect(router.deadlines.isEmpty)
        var backup = VirtualRouter(settings: settings())
        _ = backup.start(now: at(0))
        #expect(
            backup.stop(now: at(1)) == [
                .cancel(.masterDown), .stateChanged(from: .backup, to: .stopped, reason: .stop),
            ])
    }
}
