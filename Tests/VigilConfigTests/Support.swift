import Testing

@testable import VigilConfig

#if canImport(Glibc)
    import Glibc
#endif

/// Loads configuration text with a fixed config id and no machine checks.
func load(
    _ text: String, configID: String = "lb01", environment: any ValidationEnvironment = OfflineEnvironment()
) -> ConfigLoader.Result {
    ConfigLoader.load(
        text: text, name: "test.conf", options: ConfigLoader.Options(configID: configID, environment: environment))
}

/// The logical lines the preprocessor makes of `text`, as strings.
func preprocess(_ text: String, configID: String = "lb01") -> (lines: [String], diagnostics: [Diagnostic]) {
    let (lines, diagnostics) = Preprocessor.run(
        text: text, name: "test.conf", options: Preprocessor.Options(configID: configID))
    return (lines.map { String(decoding: $0.bytes, as: UTF8.self) }, diagnostics)
}

extension ConfigLoader.Result {
    /// The diagnostics of one kind, as `line:code` strings, the form most tests compare.
    func codes(_ severity: Diagnostic.Severity? = nil) -> [String] {
        diagnostics.filter { severity == nil || $0.severity == severity }.map { "\($0.location.line):\($0.code)" }
    }
    func diagnostic(_ code: Diagnostic.Code) -> Diagnostic? { diagnostics.first { $0.code == code } }
}

/// A fake machine: these interfaces, programs and users exist, nothing else.
struct FakeEnvironment: ValidationEnvironment {
    var interfaces: Set<String> = ["eth0", "eth1"]
    var programs: [String: ProgramStatus] = [:]
    var users: Set<String> = ["root"]

    func interfaceExists(_ name: String) -> Bool? { interfaces.contains(name) }
    func program(_ name: String) -> ProgramStatus { programs[name] ?? .notFound }
    func userExists(_ name: String) -> Bool? { users.contains(name) }
}

/// A fresh directory under /tmp, removed by the caller with `removeTree`.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/vigil-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot create \(path)")
    _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    close(fd)
}

func removeTree(_ path: String) {
    _ = system("rm -rf '\(path)'")
}

/// The seed document's four configurations, with lab addresses for its own.
enum Seed {
    static let globalDefs = """
        global_defs {
            router_id lb01 #标识信息，一个名字而已；
            notification_email { #通知email
                acassen@firewall.loc

            }
            notification_email_from Alexandre.Cassen@firewall.loc #发送邮箱配置
            smtp_server 198.51.100.250
            smtp_connect_timeout 30
        }

        """

    static func instance(name: String, state: String, priority: Int, nopreempt: Bool) -> String {
        """
        vrrp_instance \(name) {
            state \(state)    #角色是\(state)
            interface eth0  #vip绑定网卡端口
            virtual_router_id 50    #让master和backup在同一个虚拟路由里，id号必须相同；
            priority \(priority)            #优先级,谁的优先级高谁就是master ;
            advert_int 1            #心跳间隔时间(s)
        \(nopreempt ? "    nopreempt #非抢占式\n" : "")    authentication {
                auth_type PASS      #认证
                auth_pass 1111      #密码 
            }
            virtual_ipaddress {
                198.51.100.100            #虚拟ip
            }
        }

        """
    }

    static let preemptMaster = globalDefs + instance(name: "VI_1", state: "MASTER", priority: 150, nopreempt: false)
    static let preemptBackup =
        globalDefs.replacingOccurrences(of: "lb01", with: "lb02")
        + instance(name: "VI_2", state: "BACKUP", priority: 100, nopreempt: false)
    static let nopreemptMaster = globalDefs + instance(name: "VI_1", state: "BACKUP", priority: 150, nopreempt: true)
    static let nopreemptBackup =
        globalDefs.replacingOccurrences(of: "lb01", with: "lb02") + """
            vrrp_script check {
                script "/server/scripts/check_list" #检测nginx脚本
                interval  10 #间隔时间
            }
            track_script  {
                check #调用nginx检测脚本
            }

            """ + instance(name: "VI_2", state: "BACKUP", priority: 100, nopreempt: true)
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        guard !target.isEmpty else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
