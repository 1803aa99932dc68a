import Testing
import VRRP

@testable import Daemon

@Suite("Alert mail: keepalived's subjects, bodies and headers")
struct AlertMailTests {
    @Test("Instance and group subjects name the router ID, the kind, the name and the state")
    func subjects() {
        let master = AlertMail.vrrp(routerID: "lb01", kind: "Instance", name: "VI_1", state: .master, group: false)
        #expect(master.subject == "[lb01] VRRP Instance VI_1 - Entering MASTER state")
        #expect(master.body == "=> VRRP Instance is now owning VRRP VIPs <=")
        let fault = AlertMail.vrrp(routerID: "lb01", kind: "Group", name: "G1", state: .fault, group: true)
        #expect(fault.subject == "[lb01] VRRP Group G1 - Entering FAULT state")
        #expect(fault.body == "=> All VRRP group instances are now in FAULT state <=")
        let stop = AlertMail.vrrp(routerID: "lb01", kind: "Instance", name: "VI_1", state: .stopped, group: false)
        #expect(stop.subject == "[lb01] VRRP Instance VI_1 - Stopping")
    }

    @Test("DATA carries Date, From, Subject, X-Mailer and every recipient, then the body")
    func data() {
        let mail = AlertMail(subject: "S", body: "B")
        let text = mail.data(from: "k@lb01", to: ["a@x", "b@x"], date: "Mon, 30 Nov 2026 07:00:00 +0000")
        #expect(
            text
                == "Date: Mon, 30 Nov 2026 07:00:00 +0000\nFrom: k@lb01\nSubject: S\nX-Mailer: Keepalived\nTo: a@x,\n b@x\n\nB"
        )
    }

    @Test("Dates are RFC 5322 dates")
    func date() {
        let date = AlertMail.rfc822Date()
        let parts = date.split(separator: " ")
        #expect(parts.count == 6)
        #expect(parts[0].hasSuffix(","))
        #expect(parts.last.map { $0.hasPrefix("+") || $0.hasPrefix("-") } == true)
    }
}
