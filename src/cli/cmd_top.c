/* splq command line: what running qubes use (stats), in the manner of
 * podman stats. */
#include "cli.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct sample {
	char name[SPLQ_NAME_MAX + 1];
	struct splq_usage u;
	bool ok;
};

/* names, or every running qube but dom0 and internal ones; malloc'ed */
static int stats_names(struct cli *cli, struct splq_ctx *ctx, int argc, char **argv,
                       struct sample **out, int *n)
{
	struct splq_qube_info *v = NULL;
	struct splq_error err = {0};
	int nq = 0;

	*n = 0;
	if (argc > 0) {
		*out = splq_xcalloc(argc, sizeof(**out));
		for (int i = 0; i < argc; i++)
			snprintf((*out)[(*n)++].name, SPLQ_NAME_MAX + 1, "%s", argv[i]);
		return -1;
	}
	if (splq_op_list(ctx, &v, &nq, &err) < 0)
		return cli_fail(cli, &err, NULL);
	*out = splq_xcalloc(nq ? nq : 1, sizeof(**out));
	for (int i = 0; i < nq; i++)
		if (v[i].klass != SPLQ_CLASS_ADMINVM && !v[i].internal && v[i].power != SPLQ_HALTED)
			snprintf((*out)[(*n)++].name, SPLQ_NAME_MAX + 1, "%s", v[i].name);
	splq_qube_info_free(v, nq);
	return -1;
}

/* Sample each; a named one that cannot be is the command's error (an
 * unnamed one that stopped meanwhile is left out). */
static int stats_sample(struct cli *cli, struct splq_ctx *ctx, struct sample *s, int n, bool named)
{
	struct splq_error err = {0};
	for (int i = 0; i < n; i++) {
		s[i].ok = splq_op_usage(ctx, s[i].name, &s[i].u, &err) == 0;
		if (!s[i].ok && named)
			return cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(s[i].name)));
	}
	return -1;
}

static double cpu_percent(const struct sample *a, const struct sample *b, long long ms)
{
	if (!a->ok || !b->ok || a->u.cpu_usec < 0 || b->u.cpu_usec < a->u.cpu_usec || ms <= 0)
		return -1;
	return (double)(b->u.cpu_usec - a->u.cpu_usec) / (double)(ms * 10);
}

static void mib(char *buf, size_t max, long long bytes)
{
	if (bytes < 0)
		snprintf(buf, max, "-");
	else if (bytes == LLONG_MAX)
		snprintf(buf, max, "unlimited");
	else
		snprintf(buf, max, "%.1fMiB", (double)bytes / 1048576.0);
}

static void stats_print(const struct sample *a, const struct sample *b, int n, long long ms)
{
	printf("%-20s  %7s  %-25s  %6s  %5s  %s\n", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
	       "PIDS", "CPU TIME");
	for (int i = 0; i < n; i++) {
		if (!b[i].ok)
			continue;
		const struct splq_usage *u = &b[i].u;
		char use[32], lim[32], both[80], cpu[16] = "-", pct[16] = "-", pids[24] = "-",
		                                 t[32] = "-";
		double c = cpu_percent(&a[i], &b[i], ms);
		if (c >= 0)
			snprintf(cpu, sizeof(cpu), "%.2f%%", c);
		mib(use, sizeof(use), u->memory);
		mib(lim, sizeof(lim), u->memory_max);
		snprintf(both, sizeof(both), "%s / %s", use, lim);
		if (u->memory >= 0 && u->memory_max > 0 && u->memory_max != LLONG_MAX)
			snprintf(pct, sizeof(pct), "%.2f%%",
			         100.0 * (double)u->memory / (double)u->memory_max);
		if (u->pids >= 0)
			snprintf(pids, sizeof(pids), "%lld", u->pids);
		if (u->cpu_usec >= 0)
			snprintf(t, sizeof(t), "%.3fs", (double)u->cpu_usec / 1e6);
		printf("%-20s  %7s  %-25s  %6s  %5s  %s\n", b[i].name, cpu, both, pct, pids, t);
	}
	fflush(stdout);
}

static json_t *stats_json(const struct sample *a, const struct sample *b, int n, long long ms)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		if (!b[i].ok)
			continue;
		const struct splq_usage *u = &b[i].u;
		double c = cpu_percent(&a[i], &b[i], ms);
		json_t *o = json_pack("{s:o}", "name", cli_jstr(b[i].name));
		json_object_set_new(o, "cpuPercent", c >= 0 ? json_real(c) : json_null());
		json_object_set_new(o, "cpuTimeUsec",
		                    u->cpu_usec >= 0 ? json_integer(u->cpu_usec) : json_null());
		json_object_set_new(o, "memory",
		                    u->memory >= 0 ? json_integer(u->memory) : json_null());
		json_object_set_new(o, "memoryLimit",
		                    u->memory_max >= 0 && u->memory_max != LLONG_MAX
		                        ? json_integer(u->memory_max)
		                        : json_null());
		json_object_set_new(o, "pids", u->pids >= 0 ? json_integer(u->pids) : json_null());
		json_array_append_new(arr, o);
	}
	return json_pack("{s:o}", "qubes", arr);
}

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-stream", no_argument, NULL, 'n'},
	    CLI_COMMON_OPTIONS,
	    {0},
	};
	cleanup_free struct sample *a = NULL;
	cleanup_free struct sample *b = NULL;
	struct splq_ctx ctx;
	bool no_stream = false;
	int c, rc, n = 0;

	while ((c = cli_getopt(cli, argc, argv, ":h", opts)) != -1)
		if (c == 'n')
			no_stream = true;
	if ((rc = cli_parse_end(cli)) >= 0)
		return rc;
	bool named = optind < argc;
	/* a refreshing table only on a terminal (as top); once otherwise */
	bool stream = !no_stream && !cli->json && isatty(STDOUT_FILENO);
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if ((rc = stats_names(cli, &ctx, argc - optind, argv + optind, &a, &n)) >= 0 ||
	    (rc = stats_sample(cli, &ctx, a, n, named)) >= 0) {
		splq_ctx_close(&ctx);
		return rc;
	}
	b = splq_xcalloc(n ? n : 1, sizeof(*b));
	memcpy(b, a, (size_t)n * sizeof(*b));
	if (stream) {
		signal(SIGINT, on_stop);
		signal(SIGTERM, on_stop);
	}
	long long t0 = splq_now_ms();
	do {
		/* CPU % is over the time between two samples */
		struct timespec pause = {stream ? 2 : 0, stream ? 0 : 500000000};
		while (nanosleep(&pause, &pause) < 0 && !stop_asked)
			;
		if (stop_asked)
			break;
		memcpy(a, b, (size_t)n * sizeof(*a));
		if ((rc = stats_sample(cli, &ctx, b, n, named)) >= 0) {
			splq_ctx_close(&ctx);
			return rc;
		}
		long long t1 = splq_now_ms();
		if (cli->json) {
			splq_ctx_close(&ctx);
			return cli_ok(cli, stats_json(a, b, n, t1 - t0));
		}
		if (stream)
			printf("\033[H\033[2J");
		stats_print(a, b, n, t1 - t0);
		t0 = t1;
	} while (stream && !stop_asked);
	splq_ctx_close(&ctx);
	return cli_ok(cli, NULL);
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	struct splq_process *v = NULL;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc, n = 0;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage(cli, "ps needs one qube NAME");
	const char *name = argv[optind];
	if ((rc = cli_open(cli, &ctx)))
		return rc;
	rc = splq_op_processes(&ctx, name, &v, &n, &err);
	splq_ctx_close(&ctx);
	if (rc < 0)
		return cli_fail(cli, &err, json_pack("{s:o}", "qube", cli_jstr(name)));
	if (cli->json) {
		json_t *a = json_array();
		for (int i = 0; i < n; i++)
			json_array_append_new(
			    a, json_pack("{s:i,s:i,s:o,s:s#,s:I,s:o}", "pid", v[i].pid, "ppid",
			                 v[i].ppid, "uid",
			                 v[i].uid >= 0 ? json_integer(v[i].uid) : json_null(),
			                 "state", &v[i].state, (size_t)1, "cpuMs",
			                 (json_int_t)v[i].cpu_ms, "command", cli_jstr(v[i].cmd)));
		splq_processes_free(v, n);
		return cli_ok(cli, json_pack("{s:o,s:o}", "qube", cli_jstr(name), "processes", a));
	}
	printf("%7s  %7s  %6s  %s  %10s  %s\n", "PID", "PPID", "UID", "S", "TIME", "COMMAND");
	for (int i = 0; i < n; i++) {
		char uid[24] = "-", t[32];
		if (v[i].uid >= 0)
			snprintf(uid, sizeof(uid), "%ld", v[i].uid);
		snprintf(t, sizeof(t), "%lld.%02llds", v[i].cpu_ms / 1000, v[i].cpu_ms % 1000 / 10);
		/* what the qube wrote, made harmless for a terminal (as run's
		 * filter) */
		splq_filter_escapes(v[i].cmd, strlen(v[i].cmd));
		printf("%7d  %7d  %6s  %c  %10s  %s\n", v[i].pid, v[i].ppid, uid, v[i].state, t,
		       v[i].cmd);
	}
	splq_processes_free(v, n);
	return cli_ok(cli, NULL);
}
