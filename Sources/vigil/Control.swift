import Daemon
import Glibc
import LinuxNet

/// `vigil status [--json]` and `vigil reload`: one request to each running process's control socket (the VRRP
/// process's and the checker's, whichever run). `vigil status` exits 0 when it got an answer and no instance is in
/// FAULT, 2 when one is (for monitoring scripts), 1 when Vigil cannot be reached.
func control(_ request: String, runtimeDirectory: String) -> Int32 {
    let directory = RuntimeDirectory(path: runtimeDirectory)
    let vrrpPath = directory.file(VRRPService.controlSocketName)
    let checkerPath = directory.file(CheckerService.controlSocketName)
    var vrrp: String?
    var checker: String?
    var errors = [String]()
    for (path, slot) in [(vrrpPath, 0), (checkerPath, 1)] where access(path, F_OK) == 0 {
        do {
            let answer = try ControlSocket.request(request, path: path)
            if slot == 0 { vrrp = answer } else { checker = answer }
        } catch {
            errors.append("\(path): \(error)")
        }
    }
    guard vrrp != nil || checker != nil else {
        let reason = errors.isEmpty ? "no control socket in \(runtimeDirectory)" : errors.joined(separator: "; ")
        printError("vigil: cannot reach the running Vigil: \(reason) (is it running, with this --runtime-dir?)")
        return 1
    }
    var text: String
    if request == "status json" {
        // One object: the VRRP process's, with the checker's virtual servers (the last member of its object) added.
        var object = (vrrp ?? checker ?? "").trimmingWhitespace
        if vrrp != nil, let checker = checker?.trimmingWhitespace,
            let member = checker.firstRange(of: ",\"virtual_servers\":"), object.hasSuffix("}")
        {
            object = String(object.dropLast()) + checker[member.lowerBound...]
        }
        text = object + "\n"
    } else if request == "status" {
        text = [vrrp, checker.map { "\n" + $0 }].compactMap { $0 }.joined()
    } else {
        text = vrrp ?? checker ?? ""
    }
    for error in errors { printError("vigil: \(error)") }
    text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
    let failed = [vrrp, checker].contains { $0?.hasPrefix("error:") == true }
    if failed || !errors.isEmpty { return 1 }
    if request.hasPrefix("status"), vrrp != nil {
        let json = request == "status json" ? vrrp : try? ControlSocket.request("status json", path: vrrpPath)
        if json?.contains("\"state\":\"FAULT\"") == true { return 2 }
    }
    return 0
}

extension String {
    var trimmingWhitespace: String {
        var view = Substring(self)
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        return String(view)
    }
}
