/* splq command line: man pages, written from the command table (the one
 * --help and the completion scripts come from).  One page per first word:
 * splq-run(1), and one for each group, splq-vault(1) with every vault
 * command; splq(1) is the overview. */
#include "cli.h"

#include <string.h>

/* The page of command c: the length of its first word. */
static size_t page_len(const struct cli_command *c)
{
	return strcspn(c->name, " ");
}

/* Is c the first command of its page? */
static bool page_first(const struct cli_command *c)
{
	size_t n = page_len(c);

	for (const struct cli_command *d = cli_commands; d < c; d++)
		if (page_len(d) == n && strncmp(d->name, c->name, n) == 0)
			return false;
	return true;
}

static bool on_page(const struct cli_command *c, const char *page)
{
	size_t n = strlen(page);

	return page_len(c) == n && strncmp(c->name, page, n) == 0;
}

/* Text as roff reads it: a backslash written as \e, a '-' as \- where it
 * is an option's (bold words), '.' or '\'' at a line's start made plain. */
static void roff(FILE *f, const char *s, bool hyphens)
{
	bool start = true;

	for (; *s; s++) {
		if (start && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		start = *s == '\n';
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-' && hyphens)
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

/* A synopsis: each line "[splq ]NAME ARGS" with the command's words bold,
 * under a hanging indent; a line that starts with spaces goes on the one
 * before. */
static void synopsis(FILE *f, const struct cli_command *c)
{
	const char *s = c->synopsis;

	while (*s) {
		size_t len = strcspn(s, "\n"), name = 0;
		const char *line = s + strspn(s, " ");
		bool more = line > s && strncmp(line, "splq ", 5) != 0;

		if (!more) {
			if (strncmp(line, "splq ", 5) == 0)
				line += 5;
			name = strlen(c->name);
			if (strncmp(line, c->name, name) != 0 ||
			    (line[name] != ' ' && line + name != s + len))
				name = strcspn(line, " \n");
			fprintf(f, ".ti -4n\n\\fBsplq %.*s\\fR", (int)name, line);
		}
		char rest[512];
		snprintf(rest, sizeof(rest), "%.*s", (int)(s + len - line - (int)name),
		         line + name);
		roff(f, rest, true);
		fputc('\n', f);
		s += len;
		if (*s)
			s++;
	}
}

static void options(FILE *f, const struct cli_command *c)
{
	for (const char *const *o = c->options; o && o[0] && o[1]; o += 2) {
		fputs(".TP\n\\fB", f);
		roff(f, o[0] + strspn(o[0], " "), true);
		fputs("\\fR\n", f);
		roff(f, o[1], false);
		fputc('\n', f);
	}
}

static void header(FILE *f, const char *page, const char *what)
{
	char up[64];
	size_t i;

	for (i = 0; page[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(page[i] >= 'a' && page[i] <= 'z' ? page[i] - 'a' + 'A' : page[i]);
	up[i] = '\0';
	fprintf(f, ".TH %s%s 1 \"\" \"splq %s\" \"splq manual\"\n.SH NAME\n%s%s \\- ",
	        *page ? "SPLQ-" : "SPLQ", up, SPLQ_VERSION, *page ? "splq-" : "splq", page);
	roff(f, what, false);
	fputc('\n', f);
}

static void overview(FILE *f)
{
	header(f, "", "Qubes OS compartments (qubes) built from Linux kernel isolation");
	fputs(
	    ".SH SYNOPSIS\n\\fBsplq\\fR [\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n.br\n"
	    "\\fBsplq help\\fR [\\fICOMMAND\\fR]\n.br\n\\fBsplq \\-\\-version\\fR\n"
	    ".SH DESCRIPTION\n"
	    "splq makes compartments, qubes, the way Qubes OS does: TemplateVMs that "
	    "AppVMs share read-only, disposables for one command, services between qubes "
	    "only where the qrexec policy allows them, secrets in a vault qube that never "
	    "hands its keys out, verified file copies and an audit log that cannot be "
	    "rewritten unnoticed.\n"
	    "Every command but \\fBhelp\\fR, \\fB\\-\\-help\\fR and \\fB\\-\\-version\\fR "
	    "needs root.\n"
	    ".SH COMMANDS\n",
	    f);
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		fputs(".TP\n\\fBsplq ", f);
		roff(f, c->name, true);
		if (c->alias) {
			fputs("\\fR, \\fBsplq ", f);
			roff(f, c->alias, true);
		}
		fprintf(f, "\\fR (splq\\-%.*s(1))\n", (int)page_len(c), c->name);
		roff(f, c->summary, false);
		fputc('\n', f);
	}
	fputs(".SH OPTIONS\n"
	      ".TP\n\\fB\\-\\-json\\fR\nprint one JSON object on stdout, errors included "
	      "(also accepted among a command's options)\n"
	      ".TP\n\\fB\\-h, \\-\\-help\\fR\nprint the help and exit\n"
	      ".TP\n\\fB\\-\\-version\\fR\nprint the version and exit\n"
	      ".SH ENVIRONMENT\n"
	      ".TP\n\\fBSPLQ_HOME\\fR\nthe store: qubes, templates, policy, audit log "
	      "(default /var/lib/splq)\n"
	      ".TP\n\\fBSPLQ_RUN\\fR\nruntime state (default /run/splq)\n"
	      ".TP\n\\fBSPLQ_CGROUP\\fR\nthe cgroup that holds the qubes' (default splq)\n"
	      ".TP\n\\fBSPLQ_BUSY_TIMEOUT\\fR\nmilliseconds to wait for a store that another "
	      "splq process has locked (default 10000)\n"
	      ".TP\n\\fBNO_COLOR\\fR\nwhen set, \\fBsplq ls\\fR prints no label colours\n"
	      ".SH EXIT STATUS\n"
	      "0 on success; on a failure one line \\fBsplq: \\fIMESSAGE\\fR on stderr and "
	      "one of these codes (\\fBrun\\fR and \\fBdispvm\\fR exit with their command's "
	      "code):\n",
	      f);
	for (int code = SPLQ_E_USAGE; code <= 127; code++) {
		const char *name = splq_code_name(code);

		if (strcmp(name, "unknown") != 0)
			fprintf(f, ".TP\n%d\n%s\n", code, name);
	}
	fputs(".SH FILES\n"
	      ".TP\n/var/lib/splq/splq.db\nthe qubes, their properties, tags and features\n"
	      ".TP\n/var/lib/splq/policy.d/\nthe qrexec policy, in Qubes' format\n"
	      ".TP\n/var/lib/splq/audit.log\nthe audit log, a hash chain\n"
	      ".SH SEE ALSO\n",
	      f);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (page_first(c))
			fprintf(f, "%ssplq\\-%.*s(1)", c == cli_commands ? "" : ",\n",
			        (int)page_len(c), c->name);
	fputs("\n", f);
}

void cli_print_man_pages(FILE *f)
{
	fputs("splq\n", f);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (page_first(c))
			fprintf(f, "splq-%.*s\n", (int)page_len(c), c->name);
}

int cli_print_man(FILE *f, const char *page)
{
	const struct cli_command *first = NULL;
	int n = 0;

	if (strcmp(page, "splq") == 0) {
		overview(f);
		return 0;
	}
	if (strncmp(page, "splq-", 5) == 0)
		page += 5;
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (on_page(c, page)) {
			first = first ? first : c;
			n++;
		}
	if (!first)
		return -1;

	/* one command: its summary; a group: its commands' last words */
	char what[256] = "";
	if (n == 1) {
		snprintf(what, sizeof(what), "%s", first->summary);
	} else {
		snprintf(what, sizeof(what), "%s:", page);
		for (const struct cli_command *c = first; c->name; c++) {
			const char *word = strchr(c->name, ' ');
			word = word ? word + 1 : c->name;
			if (on_page(c, page) && strlen(what) + strlen(word) + 3 < sizeof(what))
				snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s %s",
				         c == first ? "" : ",", word);
		}
	}
	header(f, page, what);
	fputs(".SH SYNOPSIS\n.nh\n.ad l\n.in +4n\n", f);
	for (const struct cli_command *c = first; c->name; c++)
		if (on_page(c, page))
			synopsis(f, c);
	fputs(".in -4n\n.ad\n.hy\n", f);
	for (const struct cli_command *c = first; c->name; c++) {
		if (!on_page(c, page))
			continue;
		if (n == 1) {
			fputs(".SH DESCRIPTION\n", f);
		} else {
			fputs(".SH \"", f);
			for (const char *s = c->name; *s; s++)
				fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, f);
			fputs("\"\n", f);
			/* a sentence: the summary with a capital */
			fputc(c->summary[0] >= 'a' && c->summary[0] <= 'z'
			          ? c->summary[0] - 'a' + 'A'
			          : c->summary[0],
			      f);
			roff(f, c->summary + 1, false);
			fputs(".\n.PP\n", f);
		}
		roff(f, c->description, false);
		fputc('\n', f);
		if (c->alias) {
			fputs(".PP\n\\fBsplq ", f);
			roff(f, c->alias, true);
			fputs("\\fR is the same command.\n", f);
		}
		if (c->options && c->options[0]) {
			fputs(n == 1 ? ".SH OPTIONS\n" : ".SS Options\n", f);
			options(f, c);
		}
	}
	fputs(".SH SEE ALSO\nsplq(1)\n", f);
	return 0;
}
