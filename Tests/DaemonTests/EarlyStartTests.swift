import Testing

@testable import Daemon

@Suite("The VRRP process started before the file was read: kept or sent away")
struct EarlyStartTests {
    @Test("kept only when the file asks for nothing it was not started with")
    func decision() {
        #expect(EarlyStart.decide(wantsVRRP: true, namespaceInFile: false, processEvents: false, startupScript: false) == .keep)
        #expect(
            EarlyStart.decide(wantsVRRP: false, namespaceInFile: false, processEvents: false, startupScript: false)
                == .abandon(.noVRRP))
        #expect(
            EarlyStart.decide(wantsVRRP: true, namespaceInFile: true, processEvents: false, startupScript: false)
                == .abandon(.namespaceInFile))
        #expect(
            EarlyStart.decide(wantsVRRP: true, namespaceInFile: false, processEvents: true, startupScript: false)
                == .abandon(.processEvents))
        #expect(
            EarlyStart.decide(wantsVRRP: true, namespaceInFile: false, processEvents: false, startupScript: true)
                == .abandon(.startupScript))
        // No VRRP at all outranks the rest: nothing would be started afterwards either.
        #expect(
            EarlyStart.decide(wantsVRRP: false, namespaceInFile: true, processEvents: true, startupScript: true)
                == .abandon(.noVRRP))
    }
}
