import Testing

@testable import VigilConfig

@Suite("The seed document's configurations")
struct SeedTests {
    @Test("preemptive master: MASTER, VRID 50, priority 150, PASS 1111, the VIP; no diagnostics")
    func preemptiveMaster() throws {
        let result = load(Seed.preemptMaster)
        #expect(result.diagnostics.isEmpty)
        #expect(result.configTestExitCode == 0)
        let instance = try #require(result.configuration.instance(named: "VI_1"))
        #expect(instance.initialState == .master)
        #expect(instance.interface == "eth0")
        #expect(instance.virtualRouterID == 50)
        #expect(instance.priority == 150)
        #expect(instance.advertisementInterval == .seconds(1))
        #expect(instance.version == 2)
        #expect(instance.nopreempt == false)
        #expect(instance.authentication == .password(Array("1111".utf8)))
        #expect(instance.virtualAddresses.map(\.prefix) == [IPPrefix("198.51.100.100/32")!])
        let global = result.configuration.global
        #expect(global.routerID == "lb01")
        #expect(global.notificationEmails == ["acassen@firewall.loc"])
        #expect(global.notificationEmailFrom == "Alexandre.Cassen@firewall.loc")
        #expect(global.smtpServer == SMTPServer(host: "198.51.100.250", port: 25))
        #expect(global.smtpConnectTimeout == .seconds(30))
    }

    @Test("preemptive backup: BACKUP, priority 100")
    func preemptiveBackup() throws {
        let result = load(Seed.preemptBackup)
        #expect(result.diagnostics.isEmpty)
        let instance = try #require(result.configuration.instance(named: "VI_2"))
        #expect(instance.initialState == .backup)
        #expect(instance.priority == 100)
        #expect(instance.virtualRouterID == 50)
        #expect(result.configuration.global.routerID == "lb02")
    }

    @Test("non-preemptive master: BACKUP with nopreempt, priority 150")
    func nonPreemptiveMaster() throws {
        let result = load(Seed.nopreemptMaster)
        #expect(result.diagnostics.isEmpty)
        let instance = try #require(result.configuration.instance(named: "VI_1"))
        #expect(instance.initialState == .backup)
        #expect(instance.nopreempt)
        #expect(instance.priority == 150)
    }

    @Test("non-preemptive backup: the script's interval, and one warning for the top-level track_script")
    func nonPreemptiveBackup() throws {
        let result = load(Seed.nopreemptBackup)
        let instance = try #require(result.configuration.instance(named: "VI_2"))
        #expect(instance.nopreempt)
        #expect(instance.priority == 100)
        #expect(instance.trackScripts.isEmpty, "the top-level track_script binds nothing")
        let script = try #require(result.configuration.script(named: "check"))
        #expect(script.interval == .seconds(10))
        #expect(script.command?.arguments == ["/server/scripts/check_list"])
        #expect(result.diagnostics.count == 1)
        let warning = try #require(result.diagnostics.first)
        #expect(warning.severity == .warning)
        #expect(warning.code == .misplacedKeyword)
        #expect(warning.location.line == 15)
        #expect(warning.message.contains("only meaningful inside `vrrp_instance` or `vrrp_sync_group`"))
        #expect(warning.message.contains("no effect"))
        #expect(result.configTestExitCode == 5)
    }
}

@Suite("config dump")
struct DumpTests {
    @Test("the dump shows resolved values and masks the password")
    func dumpMasksSecrets() {
        let dump = ConfigurationDump.render(load(Seed.preemptMaster).configuration)
        let json = dump.json()
        #expect(json.contains("\"virtualRouterID\":50"))
        #expect(json.contains("\"priority\":150"))
        #expect(json.contains("\"prefix\":\"198.51.100.100/32\""))
        #expect(json.contains("\"password\":\"********\""))
        #expect(!json.contains("1111"))
        #expect(dump.text().contains("routerID: lb01"))
    }
}
