/* agent_main.c - om-agent: registers compute nodes and serves the tools.
 *
 * agent/ is the daemon and nothing else: one process, one epoll loop
 * (ev.c), no threads. Nodes connect over TCP (node_conn.c), tools over a
 * Unix socket (ctl_server.c); both share the node table (nodes.c) and the
 * job table (jobs.c), which places jobs (placement.c) and relays their
 * frames between node and deputy (relay.c), and moves running processes
 * where the cluster has room (balancer.c); its caps are job_limits.c and
 * bufmem.c, its check of nodes' CPU claims claims.c. Settings come from
 * the command line and agent.conf (conf.c); om-agent.service is its
 * systemd unit. It
 * never runs a user's program and links nothing of the deputy: it uses
 * migrate/ for the protocol and ctl/ only to find the control socket and
 * to ask whether an agent still answers there. SIGINT/SIGTERM arrive
 * through a signalfd so shutdown is an ordinary event: nodes get BYE, the
 * socket file is removed. Manual: docs/man/om-agent.8. */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <grp.h>
#include <pwd.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admission.h"
#include "agent_key.h"
#include "hexkey.h"
#include "balancer.h"
#include "bufmem.h"
#include "conf.h"
#include "move_relay.h"
#include "conn.h"
#include "ctl_server.h"
#include "ctl_client.h"
#include "ev.h"
#include "job_limits.h"
#include "jobs.h"
#include "log.h"
#include "reattach.h"
#include "node_conn.h"
#include "sock.h"

#define AGENT_DEFAULT_LISTEN "0.0.0.0:7707"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: om-agent [-v] [--config PATH] [--key PATH] [--listen ADDR:PORT] [--control PATH]\n"
	    "                [--heartbeat-ms N] [--down-after MS] [--grace MS] [--drop-after MS]\n"
	    "                [--no-balance]\n"
	    "                [--user NAME]\n"
	    "       om-agent --genkey PATH | --pubkey [--config PATH] [--key PATH]\n"
	    "  --config PATH        settings file (default %s; a missing default is fine)\n"
	    "  --key PATH           the link's private key (default %s)\n"
	    "  --genkey PATH        make a new key file at PATH, print its public key, exit\n"
	    "  --pubkey             print the public key (the nodes' om.key=), exit\n"
	    "  --user NAME          started as root: run as NAME once the key is read and the sockets bound\n"
	    "  --listen ADDR:PORT   TCP address for nodes (default %s; port 0 = any)\n"
	    "  --control PATH       Unix socket for tools (default $OM_CONTROL, else %s)\n"
	    "  --heartbeat-ms N     heartbeat interval told to nodes (default 1000)\n"
	    "  --down-after MS      silence before a node is marked down (default 5000)\n"
	    "  --grace MS           silence before a node's jobs are lost (default 30000)\n"
	    "  --drop-after MS      silence before a node is dropped (default 60000)\n"
	    "  --no-balance         never move running processes by itself (om-migrate still does)\n"
	    "  -v, --verbose        log connections and control requests too\n"
	    "  -h, --help           show this help\n",
	    CONF_DEFAULT_PATH, AGENT_KEY_DEFAULT_PATH, AGENT_DEFAULT_LISTEN, CTL_DEFAULT_PATH);
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "om-agent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(2);
}

static uint32_t
parse_ms(const char *opt, const char *s)
{
	uint32_t v;

	if (conf_parse_ms(s, &v) == -1) {
		fprintf(stderr, "om-agent: %s: invalid value '%s' (1..86400000 ms)\n", opt, s);
		exit(2);
	}
	return v;
}

/* Raises the descriptor limit to its hard maximum: each node holds one. */
static int
agent_maxfds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
}

/* Root no longer: the agent reads no file and binds no port after start,
 * so the rest of its life it is NAME, without a way back. */
static void
agent_become(const char *name)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		fatalx("--user %s: no such user", name);
	if (pw->pw_uid == 0)
		fatalx("--user %s: that is root", name);
	if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		fatal("--user %s", name);
	if (setuid(0) == 0 || seteuid(0) == 0)
		fatalx("--user %s: root could be taken back", name);
	log_info("running as %s (uid %u gid %u)", name, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
}

static void
agent_signal(struct ev_loop *ev, int fd, int mask, void *arg)
{
	struct signalfd_siginfo si;
	ssize_t n;

	(void)mask;
	(void)arg;
	n = read(fd, &si, sizeof si);
	if (n != (ssize_t)sizeof si)
		return;
	log_info("%s: shutting down", strsignal((int)si.ssi_signo));
	ev_stop(ev);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "control", required_argument, NULL, 'c' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "down-after", required_argument, NULL, 'D' },
		{ "drop-after", required_argument, NULL, 'X' },
		{ "grace", required_argument, NULL, 'G' },
		{ "no-balance", no_argument, NULL, 'B' },
		{ "key", required_argument, NULL, 'k' },
		{ "genkey", required_argument, NULL, 'g' },
		{ "pubkey", no_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct node_conn_cfg cfg = { 0 };
	const char *listen_arg = NULL, *control = NULL, *config = NULL, *key = NULL, *genkey = NULL;
	const char *user = NULL;
	uint8_t pub[NOISE_KEY];
	char hex[2 * NOISE_KEY + 1];
	int pubkey = 0;
	struct agent_conf cf;
	char err[512];
	struct sockaddr_in sin;
	struct ev_loop *ev;
	char addr[64];
	sigset_t sigs;
	struct balancer_cfg bal;
	int ch, verbose = 0, no_balance = 0, sfd, rc = 0;

	opterr = 0; /* our own messages: getopt's would name the full path */
	while ((ch = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'l': listen_arg = optarg; break;
		case 'c': control = optarg; break;
		case 'H': cfg.heartbeat_ms = parse_ms("--heartbeat-ms", optarg); break;
		case 'D': cfg.down_after_ms = parse_ms("--down-after", optarg); break;
		case 'X': cfg.drop_after_ms = parse_ms("--drop-after", optarg); break;
		case 'G': cfg.grace_ms = parse_ms("--grace", optarg); break;
		case 'B': no_balance = 1; break;
		case 'k': key = optarg; break;
		case 'g': genkey = optarg; break;
		case 'p': pubkey = 1; break;
		case 'u': user = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "om-agent: unknown option or missing value: '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (genkey != NULL) {
		if (agent_key_generate(genkey, pub, err, sizeof err) == -1) {
			fprintf(stderr, "om-agent: %s\n", err);
			return 1;
		}
		hexkey_format(pub, hex);
		printf("%s\n", hex);
		return 0;
	}
	/* The file fills in what the command line left out, then defaults. */
	if (conf_load(config ? config : CONF_DEFAULT_PATH, config != NULL, &cf, err, sizeof err) == -1) {
		fprintf(stderr, "om-agent: %s\n", err);
		return 2;
	}
	if (listen_arg == NULL)
		listen_arg = cf.listen[0] ? cf.listen : AGENT_DEFAULT_LISTEN;
	if (control == NULL && cf.control[0] != '\0')
		control = cf.control;
	if (cfg.heartbeat_ms == 0)
		cfg.heartbeat_ms = cf.heartbeat_ms ? cf.heartbeat_ms : 1000;
	if (cfg.down_after_ms == 0)
		cfg.down_after_ms = cf.down_after_ms ? cf.down_after_ms : 5000;
	if (cfg.drop_after_ms == 0)
		cfg.drop_after_ms = cf.drop_after_ms ? cf.drop_after_ms : 60000;
	int grace_given = cfg.grace_ms != 0 || cf.node_grace_ms != 0;
	if (cfg.grace_ms == 0)
		cfg.grace_ms = cf.node_grace_ms ? cf.node_grace_ms : 30000;
	bal.off = no_balance || cf.balance == 0;
	bal.every_ms = cf.balance_ms ? cf.balance_ms : BALANCE_EVERY_MS;
	bal.margin = cf.balance_margin ? cf.balance_margin : BALANCE_MARGIN;
	bal.min_cpu_ms = cf.balance_min_cpu_ms ? cf.balance_min_cpu_ms : BALANCE_MIN_CPU_MS;
	bal.min_stay_ms = cf.balance_min_stay_ms ? cf.balance_min_stay_ms : BALANCE_MIN_STAY_MS;
	bal.home_cores = cf.home_cores > 0 ? (uint32_t)cf.home_cores : 0;
	bal.home_speed = cf.home_speed;
	move_relay_enable(cf.node_moves_relay != 0);
	job_limits_set(cf.jobs_per_user ? cf.jobs_per_user : JOB_LIMITS_PER_USER,
	    cf.image_start_ms ? cf.image_start_ms : JOB_LIMITS_IMAGE_START_MS);
	bufmem_set_cap_mib(cf.buffer_mib ? cf.buffer_mib : BUFMEM_DEFAULT_MIB);
	if (cf.admit.policy == ADMIT_LIST && cf.admit.nnets == 0 && cf.admit.nmacs == 0)
		usage_error("admit = list needs admit_nets or admit_macs in the settings file");
	if (cf.admit.policy != ADMIT_LIST && (cf.admit.nnets > 0 || cf.admit.nmacs > 0))
		usage_error("admit_nets and admit_macs need admit = list in the settings file");
	admit_configure(&cf.admit);
	struct om_policy pol = { cf.confine == 1 ? OM_POLICY_CONFINE : 0, cf.checkpoint_every_ms,
		cf.checkpoint_max_pct ? cf.checkpoint_max_pct : OM_CKPT_PCT_DEFAULT };
	ctl_set_policy(&pol);
	if (sock_parse_addr(listen_arg, &sin) == -1)
		usage_error("--listen: '%s' is not ADDR:PORT (IPv4)", listen_arg);
	if (cfg.drop_after_ms < cfg.down_after_ms)
		usage_error("--drop-after must be at least --down-after");
	/* The default fits itself between the two; a grace asked for must. */
	if (!grace_given)
		cfg.grace_ms = cfg.grace_ms < cfg.down_after_ms ? cfg.down_after_ms :
		    cfg.grace_ms > cfg.drop_after_ms ? cfg.drop_after_ms : cfg.grace_ms;
	if (cfg.grace_ms < cfg.down_after_ms || cfg.grace_ms > cfg.drop_after_ms)
		usage_error("--grace must be from --down-after to --drop-after");
	/* om-run waits that long for a node that stopped in the middle of an image. */
	if (cfg.grace_ms > OM_IMAGE_QUIET_MS)
		usage_error("--grace must be at most %u ms", OM_IMAGE_QUIET_MS);
	if (key == NULL)
		key = cf.key_file[0] ? cf.key_file : AGENT_KEY_DEFAULT_PATH;
	if (agent_key_load(key, cfg.key, cfg.pub, err, sizeof err) == -1) {
		fprintf(stderr, "om-agent: key: %s\n", err);
		return 2;
	}
	if (pubkey) {
		hexkey_format(cfg.pub, hex);
		printf("%s\n", hex);
		return 0;
	}
	control = ctl_path(control);
	log_init("om-agent", verbose);

	/* A peer that vanishes mid-send must cost an EPIPE, not the agent. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	if ((ev = ev_create(agent_maxfds())) == NULL)
		fatal("event loop");
	ev_set_turn_end(ev, conn_end_closed, NULL);
	if (ev_add(ev, sfd, EV_READ, agent_signal, NULL) == -1)
		fatal("event loop: signalfd");
	if (ctl_start(ev, control) == -1)
		fatalx("cannot open the control socket %s", control);
	reattach_init(cfg.grace_ms);
	if (node_conn_start(ev, &sin, &cfg) == -1) {
		int saved = errno;

		ctl_stop();
		errno = saved;
		fatal("listen %s", listen_arg);
	}
	if (user != NULL)
		agent_become(user);
	if (balancer_start(ev, &bal) == -1)
		fatal("balancer");
	sock_addr_str(&sin, addr, sizeof addr);
	if (noise_records_in_clear())
		log_warnx("THIS IS A BENCHMARK BUILD: link records travel UNENCRYPTED");
	hexkey_format(cfg.pub, hex);
	log_info("listening on %s, control %s, heartbeat %u ms, down after %u ms, grace %u ms, "
	    "drop after %u ms, key %s, admit %s", addr, control, cfg.heartbeat_ms, cfg.down_after_ms,
	    cfg.grace_ms, cfg.drop_after_ms, hex, admit_policy_name());
	log_info("caps: %u jobs per user (jobs_per_user), images begin within %u ms (image_start_ms), "
	    "buffers up to %u MiB in all (buffer_mib)", job_limits_per_user(), job_limits_image_start_ms(),
	    bufmem_cap_mib());

	if (ev_run(ev) == -1) {
		log_warn("epoll_wait");
		rc = 1;
	}
	/* The next agent takes the jobs over (reattach.h): nobody is told
	 * they ended. */
	jobs_keep_on_close();
	node_conn_stop();
	ctl_stop();
	jobs_free_all();
	conn_reap_all();
	ev_del(ev, sfd, EV_READ);
	close(sfd);
	ev_free(ev);
	log_info("exiting");
	return rc;
}
