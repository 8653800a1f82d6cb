/* Unit tests: the qrexec policy (src/lib/policy/): every case of the test
 * vectors computed with Qubes' own evaluator, and the traps by hand. */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "policy/policy.h"
#include "util.h"

/* The vectors live beside the repository (tests run from its root). */
#define VECTORS_DEFAULT "tests/data/qrexec-policy/vectors.jsonl"

/* dom0, work (AppVM, tags dev, default_dispvm dvm), vault (no
 * default_dispvm), dvm (template for disposables, tag vault, halted),
 * tmpl (TemplateVM, halted), sys (internal, running). */
static const char SYSINFO[] =
    "{\"domains\":{"
    "\"dom0\":{\"type\":\"AdminVM\",\"tags\":[],\"default_dispvm\":\"dvm\","
    "\"template_for_dispvms\":false,\"power_state\":\"Running\","
    "\"uuid\":\"00000000-0000-0000-0000-000000000000\"},"
    "\"work\":{\"type\":\"AppVM\",\"tags\":[\"dev\"],\"default_dispvm\":\"dvm\","
    "\"template_for_dispvms\":false,\"power_state\":\"Running\","
    "\"uuid\":\"11111111-0000-0000-0000-000000000001\"},"
    "\"vault\":{\"type\":\"AppVM\",\"tags\":[\"dev\"],\"default_dispvm\":null,"
    "\"template_for_dispvms\":false,\"power_state\":\"Running\","
    "\"uuid\":\"11111111-0000-0000-0000-000000000002\"},"
    "\"dvm\":{\"type\":\"AppVM\",\"tags\":[\"vault\"],\"default_dispvm\":null,"
    "\"template_for_dispvms\":true,\"power_state\":\"Halted\","
    "\"uuid\":\"11111111-0000-0000-0000-000000000003\"},"
    "\"tmpl\":{\"type\":\"TemplateVM\",\"tags\":[],\"default_dispvm\":\"dvm\","
    "\"template_for_dispvms\":false,\"power_state\":\"Halted\","
    "\"uuid\":\"11111111-0000-0000-0000-000000000004\"},"
    "\"sys\":{\"type\":\"AppVM\",\"tags\":[\"dev\"],\"default_dispvm\":\"dvm\","
    "\"template_for_dispvms\":false,\"power_state\":\"Running\",\"internal\":true,"
    "\"uuid\":\"11111111-0000-0000-0000-000000000005\"}}}";

static struct splq_policy_sysinfo *sysinfo(void)
{
	struct splq_policy_sysinfo *si = splq_policy_sysinfo_new();
	struct splq_error err = {0};

	if (splq_policy_sysinfo_from_json(si, SYSINFO, strlen(SYSINFO), "test", &err) < 0)
		fail_msg("system info: %s", err.msg);
	return si;
}

/* Evaluate query ("SERVICE+ARG SOURCE TARGET") on policy text; the
 * decision as a line, or "error: MESSAGE". */
static char *decide(const char *policy, const char *query)
{
	struct splq_policy_sysinfo *si = sysinfo();
	struct splq_policy *p = splq_policy_new();
	struct splq_policy_decision d = {0};
	struct splq_error err = {0};
	char q[256], *call, *src, *tgt, *save = NULL, line[1024];

	snprintf(q, sizeof(q), "%s", query);
	call = strtok_r(q, " ", &save);
	src = strtok_r(NULL, " ", &save);
	tgt = strtok_r(NULL, " ", &save);
	if (splq_policy_add_text(p, "test.policy", policy, strlen(policy), NULL, &err) < 0) {
		assert_int_equal(err.code, SPLQ_E_POLICY);
		snprintf(line, sizeof(line), "error: %s", err.msg);
	} else {
		splq_policy_eval_call(p, si, call, src, tgt ? tgt : "", &d);
		splq_policy_decision_format(&d, line, sizeof(line));
	}
	splq_policy_decision_clear(&d);
	splq_policy_free(p);
	splq_policy_sysinfo_free(si);
	return splq_xstrdup(line);
}

#define EXPECT(policy, query, want)                                                                \
	do {                                                                                       \
		char *_got = decide(policy, query);                                                \
		if (strcmp(_got, want) != 0)                                                       \
			fail_msg("%s | %s: got '%s', want '%s'", policy, query, _got, want);       \
		free(_got);                                                                        \
	} while (0)

/* The policy's error message starts "test.policy:LINE: " and holds what. */
#define EXPECT_ERROR(policy, line, what)                                                           \
	do {                                                                                       \
		char *_got = decide(policy, "x+ work vault");                                      \
		char _want[64];                                                                    \
		snprintf(_want, sizeof(_want), "error: test.policy:%d: ", line);                   \
		if (strncmp(_got, _want, strlen(_want)) != 0 || !strstr(_got, what))               \
			fail_msg("%s: got '%s', want '%s...%s'", policy, _got, _want, what);       \
		free(_got);                                                                        \
	} while (0)

/* ---- the vectors ---- */

static void test_vectors(void **state)
{
	const char *path = getenv("SPLQ_POLICY_VECTORS");
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int cases = 0, queries = 0, bad = 0;

	if (!path)
		path = VECTORS_DEFAULT;
	if (!(f = fopen(path, "r"))) {
		print_message("[ SKIP     ] no test vectors at %s (set SPLQ_POLICY_VECTORS)\n",
		              path);
		skip();
	}
	while (getline(&line, &cap, f) > 0) {
		json_error_t jerr;
		json_t *c = json_loads(line, 0, &jerr), *qs, *q;
		struct splq_policy_sysinfo *si = splq_policy_sysinfo_new();
		struct splq_policy *p = splq_policy_new();
		struct splq_policy_decision d = {0};
		struct splq_error err = {0};
		char *info;
		const char *text;
		bool loaded;
		size_t i;

		if (!c)
			fail_msg("%s: line %d: %s", path, cases + 1, jerr.text);
		info = json_dumps(json_object_get(c, "system_info"), 0);
		assert_non_null(info);
		if (splq_policy_sysinfo_from_json(si, info, strlen(info), "vector", &err) < 0)
			fail_msg("case %d: %s", cases, err.msg);
		free(info);
		text = json_string_value(json_object_get(c, "policy"));
		assert_non_null(text);
		loaded =
		    splq_policy_add_text(p, "vector.policy", text, strlen(text), NULL, &err) == 0;
		qs = json_object_get(c, "queries");
		json_array_foreach(qs, i, q)
		{
			char qq[512], got[1024], *save = NULL;
			const char *want = json_string_value(json_object_get(q, "expect"));

			snprintf(qq, sizeof(qq), "%s", json_string_value(json_object_get(q, "q")));
			char *call = strtok_r(qq, " ", &save), *src = strtok_r(NULL, " ", &save),
			     *tgt = strtok_r(NULL, " ", &save);
			if (loaded) {
				splq_policy_eval_call(p, si, call, src, tgt, &d);
				splq_policy_decision_format(&d, got, sizeof(got));
			} else {
				snprintf(got, sizeof(got), "error");
			}
			queries++;
			if (strcmp(got, want) != 0 && ++bad <= 10)
				print_message("case %d: %s: got '%s', want '%s'%s%s\n",
				              (int)json_integer_value(json_object_get(c, "case")),
				              json_string_value(json_object_get(q, "q")), got, want,
				              loaded ? "" : "; ", loaded ? "" : err.msg);
		}
		cases++;
		splq_policy_decision_clear(&d);
		splq_policy_free(p);
		splq_policy_sysinfo_free(si);
		json_decref(c);
	}
	free(line);
	fclose(f);
	print_message("policy vectors: %d cases, %d queries, %d disagree\n", cases, queries, bad);
	assert_true(cases > 0);
	assert_int_equal(bad, 0);
}

/* ---- the traps ---- */

static void test_first_match_and_no_match(void **state)
{
	EXPECT("qubes.Filecopy * work vault allow\n"
	       "qubes.Filecopy * @anyvm @anyvm deny\n",
	       "qubes.Filecopy+ work vault", "allow target=vault");
	EXPECT("qubes.Filecopy * @anyvm @anyvm deny\n"
	       "qubes.Filecopy * work vault allow\n",
	       "qubes.Filecopy+ work vault", "deny");
	EXPECT("qubes.Other * work vault allow\n", "qubes.Filecopy+ work vault", "deny");
	EXPECT("", "qubes.Filecopy+ work vault", "deny");
	EXPECT("# only a comment\n\n   \n", "qubes.Filecopy+ work vault", "deny");
}

static void test_arguments(void **state)
{
	const char *pol = "qubes.Svc +a work vault allow\n"
	                  "qubes.Svc + work vault allow user=root\n"
	                  "qubes.Svc * work vault allow notify=yes\n";

	EXPECT(pol, "qubes.Svc+a work vault", "allow target=vault");
	/* "+" alone is the empty argument, and so is no '+' at all */
	EXPECT(pol, "qubes.Svc+ work vault", "allow target=vault user=root");
	EXPECT(pol, "qubes.Svc work vault", "allow target=vault user=root");
	/* anything else only for * */
	EXPECT(pol, "qubes.Svc+b work vault", "allow target=vault notify=yes");
	EXPECT(pol, "qubes.Svc+a+b work vault", "allow target=vault notify=yes");
	/* the * service matches any */
	EXPECT("* * work vault allow\n", "any.Thing+x work vault", "allow target=vault");
}

static void test_dispvm(void **state)
{
	const char *pol = "qubes.Svc * @anyvm @dispvm allow\n";

	/* @dispvm becomes the caller's default_dispvm */
	EXPECT(pol, "qubes.Svc+ work @dispvm", "allow target=@dispvm:dvm");
	/* vault has none: denied, whatever follows */
	EXPECT(pol, "qubes.Svc+ vault @dispvm", "deny");
	EXPECT("qubes.Svc * @anyvm @anyvm allow target=@dispvm\n", "qubes.Svc+ vault work", "deny");
	/* @dispvm:dvm names a template for disposables; work is none */
	EXPECT("qubes.Svc * @anyvm @dispvm:dvm allow\n", "qubes.Svc+ vault @dispvm:dvm",
	       "allow target=@dispvm:dvm");
	EXPECT("qubes.Svc * @anyvm @anyvm allow\n", "qubes.Svc+ vault @dispvm:work", "deny");
	/* a rule for @dispvm:dvm meets @dispvm from a qube without
	 * default_dispvm: Qubes' matching fails there, and so the call is
	 * denied even though a later rule would allow it */
	EXPECT("qubes.Svc * @anyvm @dispvm:dvm allow\n"
	       "qubes.Svc * @anyvm @dispvm allow target=work\n",
	       "qubes.Svc+ vault @dispvm", "deny");
	EXPECT("qubes.Svc * @anyvm @dispvm:dvm deny\n"
	       "qubes.Svc * @anyvm @dispvm allow target=work\n",
	       "qubes.Svc+ work @dispvm", "deny");
	/* @dispvm:@tag:vault: templates for disposables with the tag */
	EXPECT("qubes.Svc * @anyvm @dispvm:@tag:vault allow\n", "qubes.Svc+ work @dispvm",
	       "allow target=@dispvm:dvm");
	EXPECT("qubes.Svc * @anyvm @dispvm:@tag:vault allow\n", "qubes.Svc+ vault @dispvm", "deny");
	/* autostart=no: a disposable always needs starting */
	EXPECT("qubes.Svc * @anyvm @dispvm allow autostart=no\n", "qubes.Svc+ work @dispvm",
	       "deny");
}

static void test_default(void **state)
{
	/* @default is "no target named"; allow needs target= for it */
	EXPECT("qubes.Svc * @anyvm @default allow target=vault\n", "qubes.Svc+ work @default",
	       "allow target=vault");
	EXPECT_ERROR("qubes.Svc * @anyvm @default allow\n", 1, "target=");
	/* allowed without a target anywhere: denied */
	EXPECT("qubes.Svc * @anyvm * allow\n", "qubes.Svc+ work @default", "deny");
	/* an unknown qube is as if none was named */
	EXPECT("qubes.Svc * @anyvm @default allow target=vault\n", "qubes.Svc+ work nosuch",
	       "allow target=vault");
	/* ask without target= for @default: the choices come from the rules */
	EXPECT("qubes.Svc * @anyvm @default ask\n"
	       "qubes.Svc * @anyvm vault allow\n",
	       "qubes.Svc+ work @default", "ask targets=vault");
}

static void test_redirect(void **state)
{
	EXPECT("qubes.Svc * work vault allow target=tmpl\n", "qubes.Svc+ work vault",
	       "allow target=tmpl");
	EXPECT("qubes.Svc * work @anyvm allow target=@adminvm\n", "qubes.Svc+ work vault",
	       "allow target=dom0");
	/* to a qube that does not exist: denied */
	EXPECT("qubes.Svc * work @anyvm allow target=nosuch\n", "qubes.Svc+ work vault", "deny");
	/* autostart=no: only running targets */
	EXPECT("qubes.Svc * work @anyvm allow target=tmpl autostart=no\n", "qubes.Svc+ work vault",
	       "deny");
	EXPECT("qubes.Svc * work @anyvm allow target=vault autostart=no\n", "qubes.Svc+ work tmpl",
	       "allow target=vault autostart=no");
	/* dom0's names are one: dom0, @adminvm, its uuid */
	EXPECT("qubes.Svc * work dom0 allow\n", "qubes.Svc+ work @adminvm", "allow target=dom0");
	EXPECT("qubes.Svc * work uuid:11111111-0000-0000-0000-000000000002 allow\n",
	       "qubes.Svc+ work vault", "allow target=vault");
	/* @anyvm is every qube but dom0 */
	EXPECT("qubes.Svc * @anyvm @anyvm allow\n", "qubes.Svc+ dom0 work", "deny");
	EXPECT("qubes.Svc * @anyvm @anyvm allow\n", "qubes.Svc+ work dom0", "deny");
	/* what no call can name: denied before any rule */
	EXPECT("* * @anyvm * allow\n", "qubes.Svc+ work @anyvm", "deny");
	EXPECT("* * @anyvm * allow\n", "qubes.Svc+ work @tag:dev", "deny");
}

static void test_ask(void **state)
{
	/* choices: sorted, the source and internal qubes left out, @dispvm
	 * as the source's disposable */
	EXPECT("qubes.Svc * work @anyvm ask\n", "qubes.Svc+ work vault",
	       "ask targets=@dispvm:dvm,dvm,tmpl,vault");
	EXPECT("qubes.Svc * @anyvm @tag:dev ask default_target=vault\n", "qubes.Svc+ work vault",
	       "ask targets=vault default_target=vault");
	/* a deny earlier in the file takes a choice away; later, it does not */
	EXPECT("qubes.Svc * work vault deny\n"
	       "qubes.Svc * work @anyvm ask\n",
	       "qubes.Svc+ work tmpl", "ask targets=@dispvm:dvm,dvm,tmpl");
	EXPECT("qubes.Svc * work @anyvm ask\n"
	       "qubes.Svc * work vault deny\n",
	       "qubes.Svc+ work tmpl", "ask targets=@dispvm:dvm,dvm,tmpl,vault");
	/* target= is the one choice, as written */
	EXPECT("qubes.Svc * work @anyvm ask target=nosuch default_target=nosuch user=u\n",
	       "qubes.Svc+ work vault", "ask targets=nosuch default_target=nosuch user=u");
	EXPECT("qubes.Svc * work @anyvm ask target=@adminvm\n", "qubes.Svc+ work vault",
	       "ask targets=dom0");
	/* default_target not among the choices is dropped; @dispvm expands */
	EXPECT("qubes.Svc * work @anyvm ask target=vault default_target=tmpl\n",
	       "qubes.Svc+ work vault", "ask targets=vault");
	EXPECT("qubes.Svc * work @dispvm ask default_target=@dispvm\n", "qubes.Svc+ work @dispvm",
	       "ask targets=@dispvm:dvm default_target=@dispvm:dvm");
	/* autostart=no keeps the running qubes */
	EXPECT("qubes.Svc * work @anyvm ask autostart=no notify=yes\n", "qubes.Svc+ work vault",
	       "ask targets=vault autostart=no notify=yes");
	/* nothing to choose: denied */
	EXPECT("qubes.Svc * work vault ask target=tmpl autostart=no\n", "qubes.Svc+ work vault",
	       "deny");
}

static void test_syntax_errors(void **state)
{
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm deny target=vault\n", 1, "deny takes no target=");
	EXPECT_ERROR("\n# c\nqubes.Svc * @anyvm @anyvm deny user=x\n", 3, "deny takes no user=");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm allow default_target=vault\n", 1,
	             "allow takes no default_target=");
	EXPECT_ERROR("qubes/Svc * @anyvm @anyvm allow\n", 1, "service 'qubes/Svc'");
	EXPECT_ERROR("qubes+Svc * @anyvm @anyvm allow\n", 1, "service 'qubes+Svc'");
	EXPECT_ERROR("qubes.Sv\xc3\xa9 * @anyvm @anyvm allow\n", 1, "non-ASCII");
	EXPECT_ERROR("qubes.Svc +a/b @anyvm @anyvm allow\n", 1, "argument '+a/b'");
	EXPECT_ERROR("qubes.Svc arg @anyvm @anyvm allow\n", 1, "must start with +");
	EXPECT_ERROR("* +arg @anyvm @anyvm allow\n", 1, "takes only the argument *");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm\n", 1, "not 4 words");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm permit\n", 1, "unknown action 'permit'");
	EXPECT_ERROR("qubes.Svc * @default @anyvm allow\n", 1, "source '@default'");
	EXPECT_ERROR("qubes.Svc * @anyvm @tag: allow\n", 1, "target '@tag:'");
	EXPECT_ERROR("qubes.Svc * @anyvm @foo allow\n", 1, "target '@foo'");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm allow target=@anyvm\n", 1, "target= '@anyvm'");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm allow target=@dispvm:@tag:x\n", 1, "target=");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm allow notify=maybe\n", 1, "yes or no");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm allow user=a user=b\n", 1, "given twice");
	EXPECT_ERROR("qubes.Svc * @anyvm @anyvm allow # comment\n", 1, "'#'");
	EXPECT_ERROR("!include-nothing x\n", 1, "unknown directive");
	EXPECT_ERROR("!compat-4.0 x\n", 1, "takes 0 arguments");
	EXPECT_ERROR("ok * @anyvm @anyvm allow\r\nbad\n", 2, "not 1 word");
	EXPECT_ERROR("ok * @anyvm @anyvm allow\rbad\n", 2, "not 1 word");
	EXPECT_ERROR("ok * @anyvm @anyvm allow\n\xff\n", 2, "UTF-8");
	/* an error anywhere: nothing is decided */
	EXPECT("qubes.Svc * @anyvm @anyvm allow\nbroken\n", "qubes.Svc+ work vault",
	       "error: test.policy:2: a rule is SERVICE ARGUMENT SOURCE TARGET ACTION "
	       "[OPTION=VALUE...], not 1 word");
	/* Unicode whitespace splits words, as in Python */
	EXPECT("qubes.Svc\xc2\xa0* work\xe3\x80\x80vault allow\n", "qubes.Svc+ work vault",
	       "allow target=vault");
	/* !compat-4.0 adds nothing */
	EXPECT("!compat-4.0\nqubes.Svc * work vault allow\n", "qubes.Svc+ work vault",
	       "allow target=vault");
}

/* ---- includes, through a policy directory ---- */

struct dir {
	char path[64];
};

static void put(const char *dir, const char *name, const char *text)
{
	char *p = splq_strdup_printf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/splq-policy-test.XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char *cmd = splq_strdup_printf("rm -rf '%s'", d->path);

	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(d);
	return 0;
}

/* Load d's directory; the decision for query, or "error: MESSAGE". */
static char *load_decide(struct dir *d, const char *query, int *code)
{
	struct splq_policy_sysinfo *si = sysinfo();
	struct splq_policy *p = splq_policy_new();
	struct splq_policy_decision dec = {0};
	struct splq_error err = {0};
	char q[256], *save = NULL, line[1024];

	snprintf(q, sizeof(q), "%s", query);
	char *call = strtok_r(q, " ", &save), *src = strtok_r(NULL, " ", &save),
	     *tgt = strtok_r(NULL, " ", &save);
	*code = 0;
	if (splq_policy_load_dir(p, d->path, &err) < 0) {
		*code = err.code;
		snprintf(line, sizeof(line), "error: %s", err.msg);
	} else {
		splq_policy_eval_call(p, si, call, src, tgt, &dec);
		splq_policy_decision_format(&dec, line, sizeof(line));
		if (dec.file)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " @%s:%d",
			         dec.file + strlen(d->path) + 1, dec.line);
	}
	splq_policy_decision_clear(&dec);
	splq_policy_free(p);
	splq_policy_sysinfo_free(si);
	return splq_xstrdup(line);
}

#define EXPECT_DIR(d, query, want, want_code)                                                      \
	do {                                                                                       \
		int _code;                                                                         \
		char *_got = load_decide(d, query, &_code);                                        \
		if (strstr(_got, want) == NULL || _code != (want_code))                            \
			fail_msg("%s: got '%s' (%d), want '%s' (%d)", query, _got, _code, want,    \
			         want_code);                                                       \
		free(_got);                                                                        \
	} while (0)

static void test_dir_order(void **state)
{
	struct dir *d = *state;

	put(d->path, "50-b.policy", "qubes.Svc * work vault deny\n");
	put(d->path, "10-a.policy", "# first\nqubes.Svc * work vault allow\n");
	put(d->path, "99-ignored.txt", "qubes.Svc * work tmpl allow\n");
	put(d->path, ".00-hidden.policy", "broken\n");
	cleanup_free char *sub = splq_strdup_printf("%s/x.policy", d->path);

	mkdir(sub, 0700);
	EXPECT_DIR(d, "qubes.Svc+ work vault", "allow target=vault @10-a.policy:2", 0);
	EXPECT_DIR(d, "qubes.Svc+ work tmpl", "deny", 0);
	/* a name Qubes does not accept fails the whole policy */
	put(d->path, "60-Bad.policy", "\n");
	EXPECT_DIR(d, "qubes.Svc+ work vault", "60-Bad.policy: a policy file's name",
	           SPLQ_E_POLICY);
}

static void test_dir_includes(void **state)
{
	struct dir *d = *state;
	char *inc = splq_strdup_printf("%s/include", d->path);

	mkdir(inc, 0700);
	put(inc, "svc", "# old form\nwork $dispvm allow\nwork vault allow,target=tmpl,user=u\n");
	put(inc, "rules", "qubes.Other * work vault ask\n");
	put(inc, "more.policy", "qubes.More * work vault allow\n");
	put(d->path, "30-main.policy",
	    "!include-service qubes.Svc +a include/svc\n"
	    "!include include/rules\n"
	    "!include-dir include\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "allow target=tmpl user=u @include/svc:3", 0);
	EXPECT_DIR(d, "qubes.Svc+a work @dispvm", "allow target=@dispvm:dvm @include/svc:2", 0);
	EXPECT_DIR(d, "qubes.Svc+b work vault", "deny", 0);
	EXPECT_DIR(d, "qubes.Other+ work vault", "ask targets=", 0);
	EXPECT_DIR(d, "qubes.More+ work vault", "allow target=vault @include/more.policy:1", 0);

	/* an error on line 2 of an included file names that file and line */
	put(inc, "rules", "qubes.Other * work vault ask\nqubes.Other * work vault deny target=x\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault",
	           "/include/rules:2: deny takes no target=", SPLQ_E_POLICY);
	put(inc, "rules", "\n");
	/* includes stay beneath the policy directory and follow no link */
	put(d->path, "40-escape.policy", "!include ../x\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "40-escape.policy:1: '../x'", SPLQ_E_POLICY);
	put(d->path, "40-escape.policy", "!include /etc/passwd\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "40-escape.policy:1:", SPLQ_E_POLICY);
	put(d->path, "40-escape.policy", "!include include/nosuch\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "40-escape.policy:1: no such file", SPLQ_E_POLICY);
	char *link = splq_strdup_printf("%s/lnk", inc);
	assert_int_equal(symlink("svc", link), 0);
	put(d->path, "40-escape.policy", "!include include/lnk\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "symbolic link", SPLQ_E_POLICY);
	/* a file that includes itself */
	put(d->path, "40-escape.policy", "!include 40-escape.policy\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "nest", SPLQ_E_POLICY);
	put(d->path, "40-escape.policy", "!include-service * +a include/svc\n");
	EXPECT_DIR(d, "qubes.Svc+a work vault", "40-escape.policy:1: the service *", SPLQ_E_POLICY);
	cleanup_free char *esc = splq_strdup_printf("%s/40-escape.policy", d->path);
	unlink(esc);
	/* a linked policy file */
	char *plink = splq_strdup_printf("%s/45-link.policy", d->path);
	assert_int_equal(symlink("include/more.policy", plink), 0);
	EXPECT_DIR(d, "qubes.Svc+a work vault", "45-link.policy is a symbolic link", SPLQ_E_POLICY);
	free(plink);
	free(link);
	free(inc);
}

static void test_dir_missing(void **state)
{
	struct dir *d = *state;

	snprintf(d->path + strlen(d->path), sizeof(d->path) - strlen(d->path), "/nosuch");
	EXPECT_DIR(d, "qubes.Svc+ work vault", "no policy directory", SPLQ_E_NOTFOUND);
	d->path[strlen(d->path) - 7] = '\0';
}

static void test_sysinfo_json(void **state)
{
	struct splq_policy_sysinfo *si = splq_policy_sysinfo_new();
	struct splq_error err = {0};
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"domains\":[]}",
	    "{\"domains\":{\"a\":1}}",
	    "{\"domains\":{\"a\":{\"tags\":\"x\"}}}",
	    "{\"domains\":{\"a\":{\"type\":3}}}",
	    "{\"domains\":{\"@a\":{}}}",
	    "{\"domains\":{\"a\":{\"template_for_dispvms\":1}}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct splq_policy_sysinfo *s = splq_policy_sysinfo_new();

		assert_int_equal(
		    splq_policy_sysinfo_from_json(s, bad[i], strlen(bad[i]), "in", &err), -1);
		assert_int_equal(err.code, SPLQ_E_VALUE);
		assert_non_null(strstr(err.msg, "in"));
		splq_policy_sysinfo_free(s);
	}
	assert_int_equal(splq_policy_sysinfo_from_json(si, SYSINFO, strlen(SYSINFO), "x", &err), 0);
	assert_int_equal(splq_policy_sysinfo_count(si), 6);
	splq_policy_sysinfo_free(si);
}

static void test_format_cut(void **state)
{
	struct splq_policy_decision d = {
	    .action = SPLQ_POLICY_ALLOW, .target = "vault", .autostart = true};
	char buf[8];

	assert_int_equal(splq_policy_decision_format(&d, buf, sizeof(buf)), 18);
	assert_string_equal(buf, "allow t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_first_match_and_no_match),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_dispvm),
	    cmocka_unit_test(test_default),
	    cmocka_unit_test(test_redirect),
	    cmocka_unit_test(test_ask),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test_setup_teardown(test_dir_order, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_dir_includes, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_dir_missing, dir_setup, dir_teardown),
	    cmocka_unit_test(test_sysinfo_json),
	    cmocka_unit_test(test_format_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
