/// The help texts: keepalived's options (as `keepalived --help` lists them) and Vigil's subcommands.
extension HelpTopic {
    public var text: String {
        switch self {
        case .daemon:
            """
            Usage: vigil [OPTION...]              run the daemon, as keepalived
                   vigil -t [-f FILE] [-i ID]     check a configuration: exit 0 clean, 4 cannot run,
                                                  5 errors or warnings, 6 scripts without script security
                   vigil config dump|keywords     the configuration as Vigil read it; every keyword and its state
                   vigil status [--json]          the running Vigil's instances and virtual servers
                   vigil reload                   read the configuration again (as SIGHUP)
                   vigil genhash URL              the MD5 of a page's body, for HTTP_GET's `digest`
                   vigil lab                      two nodes failing over in network namespaces (root)
                   vigil SUBCOMMAND --help        help on a subcommand
              -f, --use-file=FILE          Use the specified configuration file
                                            default '/etc/keepalived/keepalived.conf'
              -P, --vrrp                   Only run with VRRP subsystem
              -C, --check                  Only run with Health-checker subsystem
              -B, --no_bfd                 Don't run BFD subsystem
                  --all                    Force all child processes to run, even if have no configuration
              -l, --log-console            Log messages to local console
              -D, --log-detail             Detailed log messages
              -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                                           Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
              -g, --log-file[=FILE]        Log to FILE (default /tmp/keepalived.log)
              -G, --no-syslog              Don't log via syslog
              -u, --umask=MASK             umask for file creation (in numeric form)
              -X, --release-vips           Drop VIP on transition from signal.
              -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
              -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
              -R, --dont-respawn           Don't respawn child processes
              -n, --dont-fork              Don't fork the daemon process
              -d, --dump-conf              Dump the configuration data
              -p, --pid=FILE               Use specified pidfile for parent process
              -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
              -T, --genhash                Enter into genhash utility mode (this should be the first option used).
              -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
              -a, --address-monitoring     Report all address additions/deletions notified via netlink
              -b, --bfd_pid=FILE           Use specified pidfile for BFD child process
              -x, --snmp                   Enable SNMP subsystem (Vigil has none: see vigil status, --metrics)
              -A, --snmp-agent-socket=FILE Use the specified socket for master agent (Vigil has none)
              -s, --namespace=NAME         Run in network namespace NAME (overrides net_namespace)
              -m, --core-dump              Produce core dump if terminate abnormally
              -M, --core-dump-pattern=PATN Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
              -e, --all-config             Error if any configuration file missing (same as includet)
              -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                            or any lines beginning @^ that do match.
                                            The config-id defaults to the node name if option not used
                  --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
              -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                            stderr by default
              -v, --version                Display the version number
              -h, --help                   Display this help message
            Vigil's own:
                  --runtime-dir=DIR        Private directory for pid files, dumps and the control socket
                                            (default /run/vigil)
                  --metrics=ADDR:PORT      Serve Prometheus metrics there (as `vigil_metrics_listen`)
                  --keepalived-log-names   Log as Keepalived, Keepalived_vrrp, Keepalived_healthcheckers
                  --control-group=GROUP    Members of GROUP may read `vigil status` (only root reloads)
            """
        case .config:
            """
            Usage: vigil config dump [--json] [-f FILE] [-i ID]
                     the configuration as Vigil resolved it (defaults filled in, passwords masked)
                   vigil config keywords [--markdown]
                     every keyword keepalived 2.2.7 accepts and what Vigil does with it
            """
        case .status:
            """
            Usage: vigil status [--json] [--runtime-dir=DIR]
                     every instance's state, priority, master, addresses and recent transitions, and every virtual
                     server's real servers, from the running Vigil's control sockets (default /run/vigil)
                     exit status: 0 fine, 2 an instance is in FAULT, 1 Vigil cannot be reached
            """
        case .reload:
            """
            Usage: vigil reload [--runtime-dir=DIR]
                     read the configuration again, as SIGHUP does; a file with errors is refused and the running
                     configuration stays
            """
        case .genhash:
            """
            Usage: vigil genhash URL
                   vigil genhash -s SERVER [-p PORT] [-u PATH] [-S] [-V VIRTUALHOST]
                     fetch a page as HTTP_GET (or SSL_GET, with https or -S) does and print the MD5 of its body,
                     for a `digest` line (keepalived's genhash)
            """
        case .lab:
            """
            Usage: vigil lab
                     two Vigil nodes and a client in network namespaces (needs root): the master is killed, the
                     backup takes over, the master comes back and takes the address back; everything it creates
                     is removed at the end
            """
        }
    }
}
