/* splq command line: volume list, info and resize (qvm-volume). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static json_t *usage_json(long long usage)
{
	return usage < 0 ? json_null() : json_integer((json_int_t)usage);
}

/* The facts of a volume, as JSON members (qvm-volume info's names). */
static json_t *volume_json(const struct splq_volume_info *v)
{
	return json_pack("{s:o,s:s,s:s,s:o,s:o,s:I,s:b,s:o,s:o,s:b,s:b,s:b,s:b,s:b,s:b}", "qube",
	                 cli_jstr(v->qube), "volume", v->name, "pool", v->pool, "path",
	                 cli_jstr(v->path), "source", cli_jstr(v->source), "size",
	                 (json_int_t)v->size, "size_default", v->size_default, "size_of",
	                 cli_jstr(v->size_of), "usage", usage_json(v->usage), "rw", v->rw,
	                 "save_on_stop", v->save_on_stop, "snap_on_start", v->snap_on_start,
	                 "ephemeral", v->ephemeral, "bounded", v->bounded, "running", v->running);
}

static const char *tf(bool b)
{
	return b ? "True" : "False";
}

static void info_print(const struct splq_volume_info *v)
{
	printf("pool           %s\n", v->pool);
	printf("path           %s\n", *v->path ? v->path : "-");
	printf("rw             %s\n", tf(v->rw));
	printf("source         %s\n", *v->source ? v->source : "-");
	printf("save_on_stop   %s\n", tf(v->save_on_stop));
	printf("snap_on_start  %s\n", tf(v->snap_on_start));
	printf("ephemeral      %s\n", tf(v->ephemeral));
	printf("bounded        %s\n", tf(v->bounded));
	printf("size           %llu\n", v->size);
	if (strcmp(v->size_of, v->qube) != 0)
		printf("size_of        %s\n", v->size_of);
	if (v->usage >= 0)
		printf("usage          %lld\n", v->usage);
	else
		printf("usage          -\n");
}

enum { VL_QUBE, VL_VOLUME, VL_POOL, VL_SIZE, VL_USAGE, VL_KEPT, VL_COLS };

static void list_print(const struct splq_volume_info *v, int n)
{
	static const char *const head[VL_COLS] = {"QUBE", "VOLUME", "POOL",
	                                          "SIZE", "USAGE",  "KEPT"};
	char size[32], usage[32];
	const char *cell[VL_COLS];
	size_t width[VL_COLS];

	for (int k = 0; k < VL_COLS; k++)
		width[k] = strlen(head[k]);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (int k = 0; k < VL_COLS - 1; k++)
				printf("%-*s  ", (int)width[k], head[k]);
			printf("%s\n", head[VL_KEPT]);
		}
		for (int j = 0; j < n; j++) {
			splq_size_format(v[j].size, size, sizeof(size));
			if (v[j].usage >= 0)
				snprintf(usage, sizeof(usage), "%lld", v[j].usage);
			else
				snprintf(usage, sizeof(usage), "-");
			cell[VL_QUBE] = v[j].qube;
			cell[VL_VOLUME] = v[j].name;
			cell[VL_POOL] = v[j].pool;
			cell[VL_SIZE] = size;
			cell[VL_USAGE] = usage;
			cell[VL_KEPT] = v[j].save_on_stop ? "yes" : "no";
			for (int k = 0; k < VL_COLS; k++) {
				if (pass == 0 && strlen(cell[k]) > width[k])
					width[k] = strlen(cell[k]);
				if (pass == 1 && k < VL_COLS - 1)
					printf("%-*s  ", (int)width[k], cell[k]);
			}
			if (pass == 1)
				printf("%s\n", cell[VL_KEPT]);
		}
	}
}

int cmd_volume_list(struct cli *cli, int argc, char **argv)
{
	struct splq_volume_info *v = NULL;
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int n = 0, rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage(cli, "volume list takes at most one QUBE, not also '%s'",
		                 argv[optind + 1]);

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_volume_list(&ctx, optind < argc ? argv[optind] : NULL, &v, &n, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
	} else if (cli->json) {
		json_t *a = json_array();

		for (int i = 0; i < n; i++)
			json_array_append_new(a, volume_json(&v[i]));
		rc = cli_ok(cli, json_pack("{s:o}", "volumes", a));
	} else {
		list_print(v, n);
		rc = cli_ok(cli, NULL);
	}
	for (int i = 0; i < n; i++)
		splq_volume_info_clear(&v[i]);
	free(v);
	splq_ctx_close(&ctx);
	return rc;
}

int cmd_volume_info(struct cli *cli, int argc, char **argv)
{
	struct splq_volume_info v = {0};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(cli, "volume info needs one QUBE:VOLUME");

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_volume_info(&ctx, argv[optind], &v, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
	} else {
		if (!cli->json)
			info_print(&v);
		rc = cli_ok(cli, volume_json(&v));
	}
	splq_volume_info_clear(&v);
	splq_ctx_close(&ctx);
	return rc;
}

int cmd_volume_resize(struct cli *cli, int argc, char **argv)
{
	struct splq_volume_info v = {0};
	struct splq_ctx ctx;
	struct splq_error err = {0};
	bool live = false;
	int rc;

	if ((rc = cli_parse_common(cli, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 2)
		return cli_usage(cli, "volume resize needs QUBE:VOLUME and SIZE");

	if ((rc = cli_open(cli, &ctx)))
		return rc;
	if (splq_op_volume_resize(&ctx, argv[optind], argv[optind + 1], &live, &v, &err) < 0) {
		rc = cli_fail(cli, &err, NULL);
	} else {
		json_t *data = volume_json(&v);

		json_object_set_new(data, "live", json_boolean(live));
		if (!cli->json && v.running && !live)
			printf("qube '%s' sees the new size of its %s volume from its next start\n",
			       v.qube, v.name);
		rc = cli_ok(cli, data);
	}
	splq_volume_info_clear(&v);
	splq_ctx_close(&ctx);
	return rc;
}
