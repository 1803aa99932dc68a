import Testing

@testable import VigilConfig

/// What a large file costs to hold: the model's per-item sizes, which `vigil -t` and every process pay once per
/// instance, real server and checker (bench: `-t` peak memory on 93,000 lines beside keepalived's).
@Suite("Configuration model: footprint")
struct FootprintTests {
    @Test("rarely-set scripts are kept out of line, so an instance, a real server and a checker stay small")
    func sizes() {
        #expect(MemoryLayout<OutOfLine<NotifyScripts>>.stride == 8)
        #expect(MemoryLayout<OutOfLine<ScriptCommand?>>.stride == 8)
        #expect(MemoryLayout<Checker.Kind>.stride <= 48)
        #expect(MemoryLayout<RealServer>.stride <= 160)
        #expect(MemoryLayout<VRRPInstance>.stride <= 720)
    }

    @Test("an out-of-line value reads back what was written; emptied, it equals one never set")
    func outOfLine() {
        var instance = VRRPInstance(name: "VI_1", location: SourceLocation(file: "k", line: 1))
        let fresh = instance
        let script = ScriptCommand(arguments: ["/bin/true"], location: SourceLocation(file: "k", line: 2))
        instance.notify.master = script
        instance.notifyDeleted = script
        #expect(instance.notify.master == script)
        #expect(instance.notifyDeleted == script)
        #expect(instance != fresh)
        var copy = instance
        copy.notify.master = nil
        #expect(instance.notify.master == script, "a copy's change leaves the original alone")
        instance.notify = NotifyScripts()
        instance.notifyDeleted = nil
        #expect(instance == fresh)
        #expect(instance.hashValue == fresh.hashValue)
    }
}
