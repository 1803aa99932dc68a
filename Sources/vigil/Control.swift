import Daemon
import Glibc
import LinuxNet

/// `vigil status [--json]` and `vigil reload`: one request to the VRRP process's control socket.
func control(_ request: String, runtimeDirectory: String) -> Int32 {
    let path = RuntimeDirectory(path: runtimeDirectory).file(VRRPService.controlSocketName)
    do {
        let answer = try ControlSocket.request(request, path: path)
        var text = answer
        text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
        return answer.hasPrefix("error:") ? 1 : 0
    } catch {
        printError(
            "vigil: cannot reach the running Vigil at \(path): \(error) (is it running, with this --runtime-dir?)")
        return 1
    }
}
