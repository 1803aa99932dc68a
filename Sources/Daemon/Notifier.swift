import Glibc
import LinuxNet
import Logging
import VRRP
import VigilConfig

/// Tells people and programs about state changes, off the VRRP loop: notify scripts (the state's own, then
/// `notify` with keepalived's four arguments), FIFO lines in keepalived's format, and e-mail. Scripts and FIFO
/// lines keep the order of the transitions (one worker); mail has its own worker, so a slow server delays nothing
/// but mail.
public final class Notifier: @unchecked Sendable {
    /// How long a notify script may hold later notifications back. Scripts run one after another so that they
    /// see transitions in order; one still running after this is left to finish on its own (keepalived never
    /// waits for or kills notify scripts) and the next notification goes ahead.
    public static let orderingWait: Duration = .seconds(5)

    let global: GlobalDefinitions
    let launcher: ScriptLauncher
    let logger: Logger
    let ordered = SerialWorker()
    let mail = SerialWorker(capacity: 1000)
    let fifos: [FIFOWriter]
    let hostName: String

    /// Which process notifies: the VRRP process writes to `notify_fifo` and `vrrp_notify_fifo`, the checker
    /// process to `notify_fifo` and `lvs_notify_fifo`.
    public enum Role: Sendable { case vrrp, checker }
    let role: Role

    public init(global: GlobalDefinitions, logger: Logger, role: Role = .vrrp) {
        self.global = global
        self.logger = logger
        self.role = role
        launcher = ScriptLauncher(global: global)
        var writers = [FIFOWriter]()
        let specific = role == .vrrp ? global.vrrpNotifyFIFO : global.lvsNotifyFIFO
        for spec in [global.notifyFIFO, specific].compactMap({ $0 }) {
            writers.append(FIFOWriter(spec: spec, logger: logger))
        }
        fifos = writers
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        hostName = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts the FIFO reader scripts (`notify_fifo_script`, `vrrp_notify_fifo_script`), given the FIFO's path.
    public func startFIFOScripts() {
        // The FIFOs exist from the start, as keepalived's do, so that readers can open them before any event.
        for fifo in fifos { fifo.prepare() }
        // The shared FIFO's script is started by the VRRP process only (keepalived's parent starts it once).
        let pairs =
            role == .vrrp
            ? [(global.notifyFIFOScript, global.notifyFIFO), (global.vrrpNotifyFIFOScript, global.vrrpNotifyFIFO)]
            : [(global.lvsNotifyFIFOScript, global.lvsNotifyFIFO)]
        for (script, fifo) in pairs {
            guard let script, let fifo else { continue }
            do {
                _ = try launcher.start(script, extra: [fifo.path])
            } catch {
                logger.error("cannot start the FIFO script \(script): \(error)")
            }
        }
    }

    /// An instance changed state.
    public func instance(_ instance: VRRPInstance, state: VirtualRouter.State, priority: Int) {
        let name = state.notifyName
        let scripts: [ScriptCommand]
        switch state {
        case .master: scripts = [instance.notify.master].compactMap { $0 }
        case .backup: scripts = [instance.notify.backup].compactMap { $0 }
        case .fault: scripts = [instance.notify.fault].compactMap { $0 }
        case .stopped: scripts = [instance.notify.stop].compactMap { $0 }
        case .initialize: return
        }
        let generic = instance.notify.generic
        let line = "INSTANCE \"\(instance.name)\" \(name) \(priority)"
        let timeout = state == .stopped ? Duration.seconds(1) : Self.orderingWait
        // Nothing to run and no FIFO: no work for the ordered worker (500 instances becoming master would
        // otherwise wake its thread 500 times at start-up).
        if !scripts.isEmpty || generic != nil || !fifos.isEmpty {
            ordered.submit { [self] in
                for script in scripts { run(script, extra: [], timeout: timeout) }
                if let generic {
                    run(generic, extra: ["INSTANCE", instance.name, name, String(priority)], timeout: timeout)
                }
                for fifo in fifos { fifo.write(line) }
            }
        }
        if instance.smtpAlert ?? global.smtpAlertVRRP ?? global.smtpAlert ?? false {
            mailVRRP(kind: "Instance", name: instance.name, state: state)
        }
    }

    /// An instance removed by a reload, with `notify_deleted`: its script (without arguments), the generic
    /// script and the FIFOs with DELETED, and the "Deleted" mail, as keepalived.
    public func deleted(_ instance: VRRPInstance, priority: Int) {
        let script = instance.notifyDeleted
        let generic = instance.notify.generic
        let line = "INSTANCE \"\(instance.name)\" DELETED \(priority)"
        ordered.submit { [self] in
            if let script { run(script, extra: [], timeout: Self.orderingWait) }
            if let generic {
                run(generic, extra: ["INSTANCE", instance.name, "DELETED", String(priority)], timeout: Self.orderingWait)
            }
            for fifo in fifos { fifo.write(line) }
        }
        if instance.smtpAlert ?? global.smtpAlertVRRP ?? global.smtpAlert ?? false,
            let server = global.smtpServer, !global.notificationEmails.isEmpty
        {
            send(
                AlertMail(
                    subject: "[\(global.routerID ?? hostName)] VRRP Instance \(instance.name) - Deleted",
                    body: "=> VRRP Deleted at reload <="),
                server: server)
        }
    }

    /// A sync group changed state.
    public func group(_ group: SyncGroup, state: VirtualRouter.State) {
        let name = state.notifyName
        let scripts: [ScriptCommand]
        switch state {
        case .master: scripts = [group.notify.master].compactMap { $0 }
        case .backup: scripts = [group.notify.backup].compactMap { $0 }
        case .fault: scripts = [group.notify.fault].compactMap { $0 }
        case .stopped: scripts = [group.notify.stop].compactMap { $0 }
        case .initialize: return
        }
        let generic = group.notify.generic
        let line = "GROUP \"\(group.name)\" \(name) 0"
        let timeout = state == .stopped ? Duration.seconds(1) : Self.orderingWait
        ordered.submit { [self] in
            for script in scripts { run(script, extra: [], timeout: timeout) }
            if let generic { run(generic, extra: ["GROUP", group.name, name, "0"], timeout: timeout) }
            for fifo in fifos { fifo.write(line) }
        }
        if group.smtpAlert ?? global.smtpAlertVRRP ?? global.smtpAlert ?? false {
            mailVRRP(kind: "Group", name: group.name, state: state)
        }
    }

    /// A real server entered or left its virtual server's pool: `notify_up`/`notify_down`, the FIFO line
    /// `RS [ip]:tcp:port [vip]:tcp:port UP|DOWN`, and (on by default) mail.
    public func realServer(
        _ realServer: String, of virtualServer: String, up: Bool, script: ScriptCommand?, mail: Bool
    ) {
        let line = "RS \(realServer) \(virtualServer) \(up ? "UP" : "DOWN")"
        ordered.submit { [self] in
            if let script { run(script, extra: [], timeout: Self.orderingWait) }
            for fifo in fifos { fifo.write(line) }
        }
        guard mail, let server = global.smtpServer, !global.notificationEmails.isEmpty else { return }
        send(
            AlertMail.realServer(
                routerID: global.routerID ?? hostName, realServer: realServer, virtualServer: virtualServer, up: up),
            server: server)
    }

    /// A checker of a real server changed without moving the real server (keepalived mails it unless
    /// `no_checker_emails`).
    public func realServerMail(_ realServer: String, of virtualServer: String, up: Bool) {
        guard let server = global.smtpServer, !global.notificationEmails.isEmpty else { return }
        send(
            AlertMail.realServer(
                routerID: global.routerID ?? hostName, realServer: realServer, virtualServer: virtualServer, up: up),
            server: server)
    }

    /// A virtual server gained or lost its quorum: `quorum_up`/`quorum_down` and the FIFO line
    /// `VS [vip]:tcp:port UP|DOWN`.
    public func virtualServer(_ virtualServer: String, up: Bool, script: ScriptCommand?) {
        let line = "VS \(virtualServer) \(up ? "UP" : "DOWN")"
        ordered.submit { [self] in
            if let script { run(script, extra: [], timeout: Self.orderingWait) }
            for fifo in fifos { fifo.write(line) }
        }
    }

    /// The effective priority moved (`notify_priority_changes`): a FIFO line only.
    public func priority(_ instance: VRRPInstance, state: VirtualRouter.State, priority: Int) {
        let line =
            "INSTANCE \"\(instance.name)\" \(state == .master ? "MASTER_PRIORITY" : "BACKUP_PRIORITY") \(priority)"
        ordered.submit { [self] in for fifo in fifos { fifo.write(line) } }
    }

    /// A master heard a lower-priority advert: FIFO line and `notify_master_rx_lower_pri`.
    public func masterReceivedLowerPriority(_ instance: VRRPInstance, priority: Int) {
        let line = "INSTANCE \"\(instance.name)\" MASTER_RX_LOWER_PRI \(priority)"
        let script = instance.notifyMasterRxLowerPriority
        ordered.submit { [self] in
            if let script { run(script, extra: [], timeout: Self.orderingWait) }
            for fifo in fifos { fifo.write(line) }
        }
    }

    /// Notifications dropped because their queue was full (a stuck script or mail server).
    public var droppedCount: Int { ordered.dropped + mail.dropped }

    /// Waits (up to `timeout`) for queued notifications to finish, before the process exits.
    public func drain(timeout: Duration) {
        ordered.drain(timeout: timeout)
        mail.drain(timeout: timeout)
    }

    /// A notifier replaced by a reload: queued notifications finish (up to `timeout`), then its threads end.
    public func close(timeout: Duration) {
        drain(timeout: timeout)
        ordered.close()
        mail.close()
    }

    /// Whether both its threads have ended (after `close`).
    public var isClosed: Bool { ordered.hasFinished && mail.hasFinished }

    private func run(_ script: ScriptCommand, extra: [String], timeout: Duration) {
        do {
            let process = try launcher.start(script, extra: extra)
            guard let ending = process.wait(upTo: timeout) else {
                logger.warning("notify script \(script) still running after \(timeout); later notifications go ahead")
                process.reapInBackground()
                return
            }
            if !ending.succeeded {
                logger.warning("notify script \(script) \(ending)")
            }
        } catch {
            logger.error("cannot run notify script \(script): \(error)")
        }
    }

    /// The state each instance or group was last mailed about: keepalived mails a state once, and not FAULT
    /// with `no_email_faults`. Touched only on the VRRP loop's thread.
    private var lastMailed: [String: VirtualRouter.State] = [:]

    private func mailVRRP(kind: String, name: String, state: VirtualRouter.State) {
        guard let server = global.smtpServer, !global.notificationEmails.isEmpty else { return }
        guard !(global.noEmailFaults && state == .fault), lastMailed[kind + " " + name] != state else { return }
        lastMailed[kind + " " + name] = state
        let message = AlertMail.vrrp(
            routerID: global.routerID ?? hostName, kind: kind, name: name, state: state, group: kind == "Group")
        send(message, server: server)
    }

    func send(_ message: AlertMail, server: SMTPServer) {
        let from = global.notificationEmailFrom ?? "keepalived@\(hostName)"
        let recipients = global.notificationEmails
        let client = SMTPClient(
            host: server.host, port: server.port, timeout: global.smtpConnectTimeout,
            heloName: global.smtpHeloName ?? hostName)
        let data = message.data(from: from, to: recipients, date: AlertMail.rfc822Date())
        let logger = self.logger
        mail.submit {
            do {
                try client.send(from: from, to: recipients, data: data)
                logger.debug("SMTP alert successfully sent: \(message.subject)")
            } catch {
                logger.error(
                    "cannot send the alert mail '\(message.subject)' through \(server.host):\(server.port): \(error)")
            }
        }
    }
}

extension VirtualRouter.State {
    /// The word keepalived's notify scripts and FIFO lines use.
    var notifyName: String {
        switch self {
        case .master: "MASTER"
        case .backup: "BACKUP"
        case .fault: "FAULT"
        case .stopped: "STOP"
        case .initialize: "INIT"
        }
    }
}

/// An alert e-mail in keepalived's words.
public struct AlertMail: Sendable, Equatable {
    public var subject: String
    public var body: String

    public static func vrrp(
        routerID: String, kind: String, name: String, state: VirtualRouter.State, group: Bool
    )
        -> AlertMail
    {
        let headline: String
        let body: String
        switch state {
        case .master:
            headline = "Entering MASTER state"
            body =
                group
                ? "=> All VRRP group instances are now in MASTER state <="
                : "=> VRRP Instance is now owning VRRP VIPs <="
        case .backup:
            headline = "Entering BACKUP state"
            body =
                group
                ? "=> All VRRP group instances are now in BACKUP state <="
                : "=> VRRP Instance is no longer owning VRRP VIPs <="
        case .fault:
            headline = "Entering FAULT state"
            body =
                group
                ? "=> All VRRP group instances are now in FAULT state <="
                : "=> VRRP Instance is no longer owning VRRP VIPs <="
        case .stopped, .initialize:
            headline = "Stopping"
            body = group ? "=> All VRRP group instances are now stopping <=" : "=> VRRP Instance stopping <="
        }
        return AlertMail(subject: "[\(routerID)] VRRP \(kind) \(name) - \(headline)", body: body)
    }

    public static func realServer(routerID: String, realServer: String, virtualServer: String, up: Bool) -> AlertMail {
        AlertMail(
            subject: "[\(routerID)] Realserver \(realServer) of virtual server \(virtualServer) - \(up ? "UP" : "DOWN")",
            body: up ? "=> CHECK succeed on service <=" : "=> CHECK failed on service <=")
    }

    /// The DATA part: keepalived's headers, a blank line, the body.
    public func data(from: String, to recipients: [String], date: String) -> String {
        "Date: \(date)\nFrom: \(from)\nSubject: \(subject)\nX-Mailer: Keepalived\nTo: \(recipients.joined(separator: ",\n "))\n\n\(body)"
    }

    /// Now, as RFC 5322 dates are written: `Mon, 01 Mar 2021 09:44:08 +0000`.
    public static func rfc822Date() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 80)
        let length = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S %z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Writes notification lines to a FIFO, creating it when missing, opened read-write so that writing never waits
/// for a reader (lines wait in the pipe until one comes; if the pipe fills, lines are dropped and counted).
final class FIFOWriter: @unchecked Sendable {
    let spec: FIFOSpec
    let logger: Logger
    var fd: Int32 = -1
    var dropped = 0

    init(spec: FIFOSpec, logger: Logger) {
        self.spec = spec
        self.logger = logger
    }

    func prepare() {
        if fd < 0 { open() }
    }

    func write(_ line: String) {
        if fd < 0 { open() }
        guard fd >= 0 else { return }
        var text = line + "\n"
        let written = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written < 0 {
            dropped += 1
            if dropped == 1 || dropped % 100 == 0 {
                logger.warning("FIFO \(spec.path) is full (no reader?): \(dropped) lines dropped")
            }
        }
    }

    private func open() {
        var info = stat()
        if lstat(spec.path, &info) != 0 {
            guard mkfifo(spec.path, 0o600) == 0 else {
                logger.error("cannot create FIFO \(spec.path): \(String(cString: strerror(errno)))")
                return
            }
        } else if info.st_mode & S_IFMT != S_IFIFO {
            logger.error("\(spec.path) exists and is not a FIFO; no FIFO notifications (remove it)")
            return
        } else if info.st_uid != geteuid() {
            // Someone else's FIFO (in /tmp, say) would hand them every notification.
            logger.error("\(spec.path) belongs to another user; no FIFO notifications (remove it)")
            return
        }
        fd = Glibc.open(spec.path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            logger.error("cannot open FIFO \(spec.path): \(String(cString: strerror(errno)))")
            return
        }
        // What was opened must still be the FIFO that was checked.
        var opened = stat()
        if fstat(fd, &opened) != 0 || opened.st_mode & S_IFMT != S_IFIFO || opened.st_uid != geteuid() {
            logger.error("\(spec.path) changed while being opened; no FIFO notifications")
            close(fd)
            fd = -1
            return
        }
        if let user = spec.user, let credentials = ChildProcess.Credentials.lookup(user: user, group: spec.group) {
            fchown(fd, credentials.uid, credentials.gid)
        }
    }
}
