/* splq command line: the command table and every command's help. */
#include "cli.h"

#include <string.h>

/* Options are pairs of strings: the option as written, what it does. */
#define OPTS(...) ((const char *const[]){__VA_ARGS__ NULL})
#define JSON_OPT  "    --json", "print one JSON object on stdout instead of text",
#define HELP_OPT  "-h, --help", "print this help and exit",

const struct cli_command cli_commands[] = {
    {"template create", NULL, cmd_template_create,
     "make a TemplateVM from the host or from a root file system directory",
     "template create NAME --base host|DIR [--label LABEL] [--size VOLUME=SIZE]...",
     OPTS("-b, --base host|DIR",
          "'host': the host's /usr, read-only, with an /etc of the template's own; "
          "DIR: a copy of that root file system directory (required)",
          "-l, --label LABEL",
          "red, orange, yellow, green, gray, blue, purple, black, or 1-8 (default red)",
          "    --size VOLUME=SIZE",
          "the size of a volume (root, private, volatile) instead of its default (10 GiB, 2 "
          "GiB, 10 GiB); may be given more than once",
          JSON_OPT HELP_OPT),
     "Makes the TemplateVM NAME.  AppVMs made from it see its root file system read-only and "
     "pick up changes to it at their next start; a StandaloneVM gets a copy of it."},
    {"create", NULL, cmd_create, "make an AppVM or a StandaloneVM from a template",
     "create NAME [--template TEMPLATE] [--class AppVM|StandaloneVM] [--label LABEL]\n"
     "       [--memory MIB] [--maxmem MIB] [--vcpus N] [--prop NAME=VALUE]...\n"
     "       [--size VOLUME=SIZE]...",
     OPTS("-t, --template TEMPLATE",
          "the TemplateVM to make it from (default: dom0's default_template)",
          "-C, --class CLASS", "AppVM (the default) or StandaloneVM", "-l, --label LABEL",
          "red, orange, yellow, green, gray, blue, purple, black, or 1-8 (default red)",
          "    --memory MIB", "memory it is given, its soft limit (the 'memory' property)",
          "    --maxmem MIB", "memory it may grow to, its hard limit (the 'maxmem' property)",
          "    --vcpus N", "number of CPUs (the 'vcpus' property)", "-P, --prop NAME=VALUE",
          "set a property; may be given more than once", "    --size VOLUME=SIZE",
          "the size of the private or volatile volume (a StandaloneVM's root too) instead of "
          "its default (2 GiB, 10 GiB; root 10 GiB); may be given more than once",
          JSON_OPT HELP_OPT),
     "Makes the qube NAME.  An AppVM shares its template's root file system (read-only, fresh "
     "at every start) and keeps only its own private volume (/home); a StandaloneVM starts "
     "with a copy of the template's root and keeps all of it.  Nothing is left behind when "
     "creation fails."},
    {"clone", NULL, cmd_clone, "copy a qube under a new name", "clone [--label LABEL] SRC DST",
     OPTS("-l, --label LABEL", "DST's label instead of SRC's", JSON_OPT HELP_OPT),
     "Copies the qube SRC (its volumes, properties, tags and features) to the new qube DST, "
     "which gets a user id range of its own."},
    {"remove", "rm", cmd_remove, "remove halted qubes and all their files",
     "remove [--force] NAME...",
     OPTS("-f, --force", "kill a qube that runs first", JSON_OPT HELP_OPT),
     "Removes each qube NAME with its volumes, in order; one that cannot be removed (a running "
     "qube without --force, or a template other qubes still use) is told and the rest go on "
     "(the exit code is the first failure's).  'rm' is the same command."},
    {"start", NULL, cmd_start, "start qubes",
     "start [--skip-if-running] NAME...\n       splq start --autostart",
     OPTS("    --skip-if-running", "a qube that runs (or is paused) already is no error",
          "    --autostart",
          "start every halted qube whose autostart is True, going on past failures (what "
          "splq-autostart.service runs at boot)",
          JSON_OPT HELP_OPT),
     "Starts each qube NAME, in order, going on past one that cannot be started (the exit "
     "code is the first failure's)."},
    {"shutdown", NULL, cmd_shutdown, "stop qubes gracefully",
     "shutdown [--wait] [--force] [--timeout S] NAME...\n"
     "       splq shutdown --all [--exclude NAME]... [--wait] [--force] [--timeout S]",
     OPTS("    --wait", "return only when each qube has halted", "    --force",
          "shut it down even when other running qubes depend on it", "    --timeout S",
          "kill what is left after S seconds, this once (default: the qube's "
          "shutdown_timeout)",
          "    --all", "every qube that runs but dom0, the clients of a netvm before it",
          "    --exclude NAME", "with --all: leave NAME running; may be given more than once",
          JSON_OPT HELP_OPT),
     "Asks every process in each qube NAME to end (SIGTERM) and kills what is left after the "
     "qube's shutdown_timeout (seconds, as it is when the shutdown begins), in order, going on "
     "past one that cannot be shut down (the exit code is the first failure's).  With --all, "
     "a netvm's clients are waited for before it goes."},
    {"kill", NULL, cmd_kill, "stop qubes at once", "kill NAME...", OPTS(JSON_OPT HELP_OPT),
     "Kills every process in each qube NAME at once (SIGKILL) and cleans up after it, going on "
     "past one that cannot be killed."},
    {"pause", NULL, cmd_pause, "freeze running qubes", "pause NAME...", OPTS(JSON_OPT HELP_OPT),
     "Freezes every process in each running qube NAME (the cgroup freezer), as qvm-pause does: "
     "its state is Paused until unpause, it keeps its memory and gets no CPU time, run into it "
     "is refused (exit 68), and shutdown or kill thaw it first.  Pausing a paused qube is no "
     "error; a halted one, or dom0, is exit 68."},
    {"unpause", NULL, cmd_unpause, "thaw paused qubes", "unpause NAME...",
     OPTS(JSON_OPT HELP_OPT),
     "Lets the processes of each paused qube NAME run again, as qvm-unpause does.  A qube that "
     "is not paused is exit 68."},
    {"check", NULL, cmd_check, "say whether qubes exist and are running, paused, ...",
     "check [--running] [--paused] [--template] [--networked] [-q] NAME...",
     OPTS("    --running", "are they running (Paused counts, as in Qubes; dom0 always is)",
          "    --paused", "are they paused", "    --template", "are they TemplateVMs",
          "    --networked", "can they reach a network: a netvm, or they provide network",
          "-q, --quiet", "print nothing: the exit code says it", JSON_OPT HELP_OPT),
     "Answers as qvm-check does, with its exit code: 0 when every NAME exists and is all the "
     "options ask (without options: exists), 3 when only some are, 1 when none is or a NAME "
     "does not exist.  Prints 'NAME: running, paused' for each that is, 'None of qubes: ...' "
     "when none is, and 'NAME: non-existent!' on stderr.  JSON: qubes (those that are), "
     "missing, exitCode."},
    {"run", NULL, cmd_run, "run a command in a qube",
     "run [-t] [--user USER] [--no-wait] [--no-autostart] [-e NAME=VALUE]... [--workdir DIR]\n"
     "           [--max-output SIZE] [--[no-]filter-escape-chars] NAME [--] COMMAND [ARG...]\n"
     "       splq run --dispvm[=DVM] [options] [--] COMMAND [ARG...]",
     OPTS("-u, --user USER", "run it as USER (default: the qube's default_user)",
          "-t, --tty", "a pseudo-terminal of the qube's own; without COMMAND, a login shell",
          "-i, --interactive", "accepted for podman's -it (stdin always passes)",
          "-p, --pass-io", "accepted for qvm-run's --pass-io (stdio always passes)",
          "-e, --env NAME=VALUE", "set NAME in the command's environment (at most 12)",
          "    --workdir DIR", "start the command in DIR, an absolute path in the qube "
          "(default: the user's home)",
          "    --no-wait",
          "start the command and return at once (exit code 0); its output goes to the "
          "qube's log (splq logs)",
          "    --no-autostart", "a halted qube is not started for it: exit 68",
          "    --autostart", "start a halted qube for it (the default)",
          "    --dispvm[=DVM]", "run it in a new disposable of DVM instead, as dispvm does "
          "(no NAME)",
          "    --max-output SIZE",
          "kill the command past SIZE bytes (512K, 16M, ...) of stdout or stderr (exit 77; "
          "16M with --json)",
          "    --filter-escape-chars", "replace bytes that are not printable ASCII by '_'",
          "    --no-filter-escape-chars", "pass them to a terminal as they are",
          "    --json", "capture the command's stdout and stderr into one JSON object",
          HELP_OPT),
     "Runs COMMAND in the qube NAME, starting the qube first if it is halted.  Options come "
     "before NAME: everything after NAME (or after '--') is the command.  No descriptor of "
     "splq's enters the qube: splq relays the bytes between its stdin, stdout and stderr and "
     "pipes of the command's, filters what goes to a terminal as qvm-run does, and exits "
     "with the command's exit code (128+N when signal N ended it; 137 with a message when "
     "its qube's memory limit killed it).  SIGINT, SIGTERM and "
     "SIGHUP go to the command's process group.  With --json, stdout and stderr are "
     "captured and returned as strings."},
    {"dispvm", NULL, cmd_dispvm, "run a command in a new disposable qube",
     "dispvm [-t] [--template DVM] [--netvm NETVM] [--timeout SECONDS] [--user USER] "
     "[-e NAME=VALUE]...\n"
     "              [--workdir DIR] [--max-output SIZE] [--[no-]filter-escape-chars]\n"
     "              [--] COMMAND [ARG...]",
     OPTS("    --template DVM",
          "make the disposable from DVM (a TemplateVM, or an AppVM with "
          "template_for_dispvms=True); default: dom0's default_dispvm",
          "    --netvm NETVM", "its netvm ('' for none); default: DVM's",
          "    --timeout SECONDS", "kill it after SECONDS (1-31536000) and exit with 124",
          "-u, --user USER", "run it as USER (default: the qube's default_user)",
          "-t, --tty", "a pseudo-terminal of the disposable's own; without COMMAND, a shell",
          "-i, --interactive", "accepted for podman's -it",
          "-e, --env NAME=VALUE", "as for run", "    --workdir DIR", "as for run",
          "    --max-output SIZE", "as for run",
          "    --[no-]filter-escape-chars", "as for run",
          "    --json", "capture the command's stdout and stderr into one JSON object",
          HELP_OPT),
     "Makes a disposable qube dispN, runs COMMAND in it as run does, and removes the qube and "
     "everything it wrote when the command ends (splq exits with its result first: the "
     "disposable is hidden then, and its supervisor removes it in the background), on --timeout (exit 124) or on SIGTERM (exit "
     "143).  Options come before COMMAND.  SIGINT and SIGHUP go to the command.  splq exits "
     "with the command's exit code, as run does.  When DVM keeps preloaded disposables (the "
     "feature preload-dispvm-max), one of them runs COMMAND, unless --netvm or --timeout is "
     "given: it was started ahead of time and frozen, and is thawed for it; a replacement "
     "starts in the background."},
    {"preload", NULL, cmd_preload, "fill a disposable template's pool of preloaded disposables",
     "preload [DVM]", OPTS(JSON_OPT HELP_OPT),
     "Does now what splq does in the background after each disposable taken from the pool of "
     "DVM (default: dom0's default_dispvm): removes the used ones, those made before DVM or "
     "its template changed and those beyond its preload-dispvm-max, then starts and freezes "
     "new ones until the pool holds preload-dispvm-max of them (dom0's preload-dispvm-max, "
     "when set, for the default_dispvm).  Prints how many are ready and their names.  "
     "Preloaded disposables carry the features internal and preload-dispvm-completed "
     "(preload-dispvm-in-progress while they start), and DVM lists them in its feature "
     "preload-dispvm; 'ls' shows them only with --all."},
    {"ps", NULL, cmd_ps, "list the processes in a running qube", "ps NAME",
     OPTS(JSON_OPT HELP_OPT),
     "As podman top: each process of the running qube NAME, by pid, as the qube sees it: "
     "PID and PPID in its pid namespace, UID in its user namespace, state, CPU time and "
     "command line (read on the host from /proc, not by a program in the qube; bytes that "
     "are not printable ASCII shown as '_').  JSON: processes, each with pid, ppid, uid, "
     "state, cpuMs and command."},
    {"stats", NULL, cmd_stats, "show what running qubes use: CPU, memory, processes",
     "stats [--no-stream] [QUBE...]",
     OPTS("    --no-stream", "print the figures once (the default when not on a terminal)",
          JSON_OPT HELP_OPT),
     "As podman stats: for each QUBE, or every running qube, its CPU use (per cent of one "
     "CPU, over the last interval), memory in use and its hard limit, processes and the CPU "
     "time since it started, read from its cgroups.  On a terminal the table is drawn again "
     "every 2 s until Ctrl-C; otherwise it is printed once, over half a second.  A QUBE that "
     "does not run is exit 68.  JSON (once): qubes, each with name, cpuPercent, cpuTimeUsec, "
     "memory and memoryLimit (bytes) and pids."},
    {"discard", NULL, cmd_discard, "remove a halted disposable",
     "discard NAME", OPTS(JSON_OPT HELP_OPT),
     "Removes the disposable NAME, which must have halted, with everything it wrote, and "
     "says so in the audit log.  A disposable's supervisor runs it once the disposable's "
     "command has ended and the qube has halted: dispvm returns the command's result first "
     "(the disposable is hidden from then on, as ls --all shows), and the clean-up happens "
     "in the background.  It is not meant to be run by hand; a qube of another class, or "
     "one that runs, stays (exit 69, 68)."},
    {"logs", NULL, cmd_logs, "print a qube's log",
     "logs [-f] [--[no-]filter-escape-chars] QUBE",
     OPTS("-f, --follow", "keep printing what the log gets until the qube is halted",
          "    --filter-escape-chars", "replace bytes that are not printable ASCII by '_'",
          "    --no-filter-escape-chars", "pass them to a terminal as they are",
          "    --json", "print one JSON object, the log's lines in 'lines' (not with -f)",
          HELP_OPT),
     "Prints what the --no-wait commands of QUBE wrote to stdout and stderr, and its pid 1's "
     "own lines (splq-init: ...: which --no-wait command started, and how it ended), oldest "
     "first, across its starts.  The host keeps it in $SPLQ_HOME/logs/QUBE.log: at most 1 "
     "MiB, and the 1 MiB before in QUBE.log.1, printed first; removing the qube removes it.  "
     "Bytes that are not printable ASCII become '_' on a terminal, as run filters them.  A "
     "qube that never ran has an empty log."},
    {"ls", NULL, cmd_ls, "list qubes",
     "ls [--all] [--running] [--paused] [--halted] [--class CLASS] [--tags TAG] [--label LABEL]\n"
     "       [-o FORMAT | -O FIELD,...] [--raw-data | --raw-list] [NAME...]",
     OPTS("-a, --all", "internal qubes too (preloaded disposables)", "    --running",
          "only qubes that run (Running, Transient, Halting)", "    --paused",
          "only paused qubes", "    --halted", "only halted qubes (with the two above: any of them)",
          "    --class CLASS", "only qubes of CLASS; a comma list, or given again: any of them",
          "    --tags TAG", "only qubes with TAG; a comma list, or given again: any of them",
          "    --label LABEL", "only qubes with LABEL; a comma list, or given again",
          "-o, --format FORMAT",
          "splq (the default: name, class, state, label, template, netvm, memory), simple, "
          "network, full or prefs, as qvm-ls names them",
          "-O, --fields FIELD,...",
          "the columns: name, state, class, label, template, netvm, memory, flags, or any "
          "property (prefs lists them)",
          "    --raw-data", "no header, the cells of a line joined by '|' (for scripts)",
          "    --raw-list", "the names alone, one a line", JSON_OPT HELP_OPT),
     "Lists the qubes NAME..., or every qube, dom0 first, in aligned columns under a header "
     "line, as qvm-ls does; an empty cell is '-'.  On a terminal (and without NO_COLOR) each "
     "name is in its label's colour.  Qubes with the feature internal (preloaded disposables) "
     "are left out unless --all is given or they are named.  FLAGS is qvm-ls's: the class "
     "(0 t a d s), the power state (r t p h, - halted), U updateable, N provides network, "
     "i internal, A autostart."},
    {"prefs", NULL, cmd_prefs, "show or change a qube's properties",
     "prefs QUBE [PROPERTY [VALUE]]\n"
     "       splq prefs --default QUBE PROPERTY\n"
     "       splq prefs --help-properties [QUBE]",
     OPTS("-D, --default", "reset PROPERTY to its default", "    --help-properties",
          "list every property (of QUBE's class) with its type, default and help",
          JSON_OPT HELP_OPT),
     "With QUBE alone, lists every property as NAME, then D (the default is in use) or - (set), "
     "then VALUE.  With PROPERTY, prints its value; with VALUE too, sets it (an empty VALUE "
     "clears a vm property such as netvm).  Booleans take True/False, yes/no or 1/0.  dom0's "
     "properties are the global ones (default_template, default_netvm, default_dispvm, ...)."},
    {"tags", NULL, cmd_tags, "list, add or remove a qube's tags",
     "tags QUBE [list]\n"
     "       splq tags QUBE add TAG...\n"
     "       splq tags QUBE del TAG...",
     OPTS(JSON_OPT HELP_OPT),
     "Tags are free words ([A-Za-z0-9_.:-], up to 255 characters) that policies can name "
     "(@tag:TAG).  'list' prints one tag a line; 'add' and 'del' change them in order, "
     "stopping at the first tag that cannot be added or removed."},
    {"firewall", NULL, cmd_firewall, "list or change a qube's firewall rules",
     "firewall QUBE [list] [--raw]\n"
     "       splq firewall QUBE add [--before N] RULE...\n"
     "       splq firewall QUBE del N | --rule-no N | RULE...\n"
     "       splq firewall QUBE set FILE\n"
     "       splq firewall QUBE reset | reload",
     OPTS("    --raw", "list the rules alone, one a line, as set takes them",
          "    --before N", "add the rule before rule N (numbered from 0)",
          "    --rule-no N", "del rule N", JSON_OPT HELP_OPT),
     "Rules in Qubes' format (qvm-firewall's): key=value words, action (accept or drop) "
     "first, then dst4, dst6 or dsthost, proto, specialtarget=dns, dstports, icmptype, expire "
     "and comment (last).  The first rule that matches decides; after the last, everything is "
     "dropped.  A qube with no rules set has one: action=accept.  They are enforced in the "
     "qube's netvm, out of its reach, and a change applies at once to a running qube.  set "
     "takes a FILE of rules, one a line (- for stdin); reset goes back to action=accept.  "
     "The netvm looks dsthost names up (A and AAAA, at its DNS) whenever it applies the "
     "rules: a change that names a host it cannot find is refused; at the qube's start, "
     "such a name cuts the qube off until reload (which applies the rules again) finds it."},
    {"features", NULL, cmd_features, "show or change a qube's features",
     "features QUBE [NAME [VALUE]]\n"
     "       splq features --unset QUBE NAME",
     OPTS("-D, --unset", "remove the feature NAME", JSON_OPT HELP_OPT),
     "With QUBE alone, lists its features as NAME VALUE.  With NAME, prints that feature's "
     "value; with VALUE too, sets it (printable ASCII, up to 4096 characters)."},
    {"volume list", "volume ls", cmd_volume_list, "list the volumes of one qube or of all",
     "volume list [QUBE]", OPTS(JSON_OPT HELP_OPT),
     "A table of every volume (root, private, volatile) of QUBE, or of every qube but dom0: "
     "QUBE, VOLUME, POOL (image: an ext4 image file; tmpfs: memory, made at each start; dir: "
     "a directory), SIZE, USAGE (bytes of the host's disk it takes, - when not known) and "
     "KEPT (whether it survives a shutdown)."},
    {"volume info", NULL, cmd_volume_info, "show the facts of one volume",
     "volume info QUBE:VOLUME", OPTS(JSON_OPT HELP_OPT),
     "Prints one fact a line, as qvm-volume info does: pool, path, rw, source, save_on_stop, "
     "snap_on_start, ephemeral, bounded (writes past its size fail), size and usage in "
     "bytes, and size_of when the size is another qube's (a disposable's are its dvm's)."},
    {"volume resize", NULL, cmd_volume_resize, "grow a volume", "volume resize QUBE:VOLUME SIZE",
     OPTS(JSON_OPT HELP_OPT),
     "Grows the volume to SIZE: bytes, or a number with K, M, G, T, KiB, MiB, GiB, TiB "
     "(1024) or KB, MB, GB, TB (1000), rounded up to a whole MiB; at least 16 MiB.  A running "
     "qube's private volume grows at once; a volatile volume takes its size at the qube's "
     "next start.  A smaller size is refused (exit 77)."},
    {"audit log", NULL, cmd_audit_log, "print the audit log",
     "audit log [-f] [--qube QUBE] [--since TIME]",
     OPTS("-q, --qube QUBE", "only entries about QUBE", "-s, --since TIME",
          "only entries from TIME on: 2026-11-28, 2026-11-28T10:00:00Z (the Z may go), "
          "@UNIXSECONDS, or an age such as 30, 30s, 15m, 2h, 7d",
          "-f, --follow",
          "then print each entry as it is appended, until Ctrl-C (with --json: a JSON "
          "object a line)",
          JSON_OPT HELP_OPT),
     "Prints one line per audit entry, oldest first: SEQ TIME ACTOR OP TARGET RESULT ARGS.  "
     "TARGET is - when there is none; RESULT is quoted when it holds spaces (\"exit 3\", "
     "\"error: ...\"); ARGS, last, is the rest of the line."},
    {"audit verify", NULL, cmd_audit_verify, "check the audit log's hash chain and seals",
     "audit verify [--pubkey FILE]",
     OPTS("-p, --pubkey FILE",
          "check the seals against this public key (minisign's format, from splq vault "
          "pubkey); without it, each seal's key is asked of its vault",
          JSON_OPT HELP_OPT),
     "Checks every entry of the audit log against the one before it, and the last against the "
     "head kept in the store, then every seal (splq audit seal) against the log and the key.  "
     "Prints 'audit log OK: N entries', or names the first bad entry and exits with 76."},
    {"audit seal", NULL, cmd_audit_seal, "sign the audit log's head in a vault",
     "audit seal --vault VAULT --key NAME",
     OPTS("-v, --vault VAULT", "the vault qube that holds the key", "-k, --key NAME",
          "the signing key (splq vault keygen)", JSON_OPT HELP_OPT),
     "Signs the hash of the audit log's last entry with key NAME inside VAULT (the splq.Sign "
     "service) and appends the seal to the log.  'splq audit verify' then checks every seal: "
     "a history rewritten before a seal fails even when the whole hash chain was computed "
     "again, as no one outside the vault can sign for it."},
    {"policy eval", NULL, cmd_policy_eval, "decide qrexec calls read from standard input",
     "policy eval [--policy-dir DIR] [--system-info FILE]",
     OPTS("    --policy-dir DIR",
          "the policy files: DIR/*.policy (default: $SPLQ_HOME/policy.d)",
          "    --system-info FILE",
          "the qubes, as Qubes' system info in JSON: {\"domains\": {NAME: {\"type\": ..., "
          "\"tags\": [...], \"default_dispvm\": ..., \"template_for_dispvms\": ..., "
          "\"power_state\": ..., \"uuid\": ...}}} (default: the store's qubes)",
          JSON_OPT HELP_OPT),
     "Reads one call a line, SERVICE+ARG SOURCE TARGET, and prints one decision a line: "
     "'deny', 'allow target=T', or 'ask targets=T1,T2' (sorted), followed by default_target=, "
     "user=, autostart=no and notify=yes where they apply.  Decides as Qubes' qrexec policy "
     "does: the first matching rule wins and no match denies.  A policy that does not load "
     "(a syntax error anywhere) decides nothing: its message names file and line (exit 80)."},
    {"policy check", NULL, cmd_policy_check, "decide one qrexec call and say why",
     "policy check [--policy-dir DIR] [--system-info FILE] SERVICE+ARG SOURCE TARGET",
     OPTS("    --policy-dir DIR", "as for policy eval", "    --system-info FILE",
          "as for policy eval", JSON_OPT HELP_OPT),
     "Decides whether SOURCE may call SERVICE+ARG on TARGET (a qube, @default, @adminvm, "
     "@dispvm or @dispvm:DVM) and says so in words, with the file and line of the rule that "
     "decided."},
    {"vault init", NULL, cmd_vault_init, "make a qube without network a vault",
     "vault init VAULT [--key-file FILE | --passphrase-fd N] [--scrypt-cost LOG2N]",
     OPTS("    --key-file FILE", "seal the master key by this file's bytes (32 to 4096)",
          "    --passphrase-fd N", "read the passphrase, one line, from descriptor N",
          "    --scrypt-cost LOG2N",
          "scrypt's N as a power of two, 10 to 22 (default 17: 128 MiB, a fraction of a "
          "second); lower is faster and weaker",
          JSON_OPT HELP_OPT),
     "Makes qube VAULT (an AppVM or StandaloneVM with no netvm) a vault: a new master key, "
     "made inside it and sealed by a passphrase (scrypt) or a key file, on its private "
     "volume.  The vault is left unlocked; it can never be given a netvm.  The passphrase is "
     "asked twice on the terminal, or comes from --passphrase-fd, or from "
     "SPLQ_VAULT_PASSPHRASE (the weaker choice: the environment of a process can be read by "
     "its user)."},
    {"vault unlock", NULL, cmd_vault_unlock, "unlock a vault",
     "vault unlock VAULT [--key-file FILE | --passphrase-fd N]",
     OPTS("    --key-file FILE", "the key file that seals the master key",
          "    --passphrase-fd N", "read the passphrase, one line, from descriptor N",
          JSON_OPT HELP_OPT),
     "Opens the vault's master key with the passphrase (asked on the terminal, or from "
     "--passphrase-fd or SPLQ_VAULT_PASSPHRASE) or key file; the vault keeps it in memory "
     "until 'splq vault lock' or until it stops.  An unlocked vault stays as it is.  A "
     "wrong passphrase exits with 85."},
    {"vault lock", NULL, cmd_vault_lock, "lock a vault: its master key leaves its memory",
     "vault lock VAULT", OPTS(JSON_OPT HELP_OPT),
     "Wipes the master key from the vault's memory; it answers nothing (exit 84) until it "
     "is unlocked again."},
    {"vault status", NULL, cmd_vault_status, "say whether a vault is locked",
     "vault status VAULT", OPTS(JSON_OPT HELP_OPT), "Prints 'locked' or 'unlocked'."},
    {"vault passwd", NULL, cmd_vault_passwd, "change a vault's passphrase or key file",
     "vault passwd VAULT [--old-key-file FILE] [--key-file FILE] [--passphrase-fd N]",
     OPTS("    --old-key-file FILE", "the key file that seals the master key now",
          "    --key-file FILE", "seal it by this key file from now on",
          "    --passphrase-fd N", "read the old and the new passphrase, a line each, from N",
          "    --scrypt-cost LOG2N", "as for init", JSON_OPT HELP_OPT),
     "Seals the same master key by a new passphrase or key file: no secret is encrypted "
     "again.  The old passphrase may come from SPLQ_VAULT_PASSPHRASE, the new from "
     "SPLQ_VAULT_NEW_PASSPHRASE."},
    {"vault rotate", NULL, cmd_vault_rotate, "re-encrypt a vault under a new master key",
     "vault rotate VAULT [--key-file FILE | --passphrase-fd N]",
     OPTS("    --key-file FILE", "the key file that seals the master key",
          "    --passphrase-fd N", "read the passphrase from descriptor N", JSON_OPT HELP_OPT),
     "Makes a new master key inside the vault, encrypts every secret and key again under it "
     "and switches over in one step: a rotate cut short leaves the vault as it was."},
    {"vault store", NULL, cmd_vault_store, "put a secret in a vault",
     "vault store --qube VAULT NAME [--from-file FILE]",
     OPTS("-q, --qube VAULT", "the vault", "    --from-file FILE",
          "the value (default: standard input), at most 64 MiB", JSON_OPT HELP_OPT),
     "Stores the value as the next version of secret NAME (letters, digits, '_', '.', '-'), "
     "encrypted inside the vault with AES-256-GCM under a fresh nonce, bound to its name and "
     "version.  The previous version stays until the new one is safely on disk."},
    {"vault retrieve", NULL, cmd_vault_retrieve, "read a secret from a vault",
     "vault retrieve --qube VAULT NAME [--to-file FILE]",
     OPTS("-q, --qube VAULT", "the vault", "    --to-file FILE",
          "write it there (whole, or not at all) instead of standard output", JSON_OPT HELP_OPT),
     "Writes the current version of secret NAME.  A record that was changed, moved, swapped "
     "or rolled back is refused (exit 86), and nothing of it is decrypted.  Another qube asks "
     "with qrexec-client-vm VAULT splq.VaultGet+NAME, as the policy allows."},
    {"vault list", NULL, cmd_vault_list, "list the secrets and keys of a vault",
     "vault list --qube VAULT", OPTS("-q, --qube VAULT", "the vault", JSON_OPT HELP_OPT),
     "Prints NAME KIND VERSION SIZE UPDATED for every secret and signing key; never a "
     "value."},
    {"vault delete", NULL, cmd_vault_delete, "remove a secret or a key from a vault",
     "vault delete --qube VAULT NAME", OPTS("-q, --qube VAULT", "the vault", JSON_OPT HELP_OPT),
     "Removes secret or signing key NAME, all its versions."},
    {"vault keygen", NULL, cmd_vault_keygen, "make a signing key inside a vault",
     "vault keygen --qube VAULT NAME", OPTS("-q, --qube VAULT", "the vault", JSON_OPT HELP_OPT),
     "Makes an Ed25519 key NAME inside the vault, where its secret half stays, and prints its "
     "public key in minisign's format."},
    {"vault pubkey", NULL, cmd_vault_pubkey, "print a vault key's public key",
     "vault pubkey --qube VAULT NAME", OPTS("-q, --qube VAULT", "the vault", JSON_OPT HELP_OPT),
     "Prints the public key of signing key NAME in minisign's format (minisign -V -p FILE "
     "reads it); the vault need not be unlocked."},
    {"sign", NULL, cmd_sign, "sign a file with a key that stays in a vault",
     "sign --vault VAULT --key NAME [-t COMMENT] [-c COMMENT] [-x SIGFILE] FILE",
     OPTS("-v, --vault VAULT", "the vault qube", "-k, --key NAME", "its signing key",
          "-t, --trusted-comment TEXT",
          "the signed comment (default: timestamp:T, file:NAME, as minisign's)",
          "-c, --comment TEXT", "the untrusted comment", "-x, --sig-file FILE",
          "where the signature goes (default: FILE.minisig)", JSON_OPT HELP_OPT),
     "Hashes FILE here (BLAKE2b-512), sends only the hash into the vault (the splq.Sign "
     "service, under the policy) and writes the signature it gets back in minisign's "
     "prehashed format, which minisign -V checks."},
    {"verify", NULL, cmd_verify, "check a minisign signature of a file",
     "verify --pubkey FILE | -P KEY [-x SIGFILE] FILE",
     OPTS("-p, --pubkey FILE", "the public key file", "-P, --pubkey-line KEY",
          "the public key as its base64 line", "-x, --sig-file FILE",
          "the signature (default: FILE.minisig)", JSON_OPT HELP_OPT),
     "Checks FILE's signature, made by splq sign or by minisign -S (prehashed or legacy), "
     "and its trusted comment, as minisign -V does; prints the trusted comment.  A "
     "signature that does not hold exits with 83."},
    {"call", NULL, cmd_call, "call a qrexec service in a qube, as the policy allows",
     "call [--from SOURCE] TARGET SERVICE[+ARG]",
     OPTS("-f, --from SOURCE", "call as SOURCE, a qube or dom0 (default: dom0)",
          JSON_OPT HELP_OPT),
     "Asks the qrexec policy whether SOURCE may call SERVICE+ARG on TARGET (a qube, @default, "
     "@dispvm or @dispvm:DVM), then runs the service in the target as qrexec-client-vm would "
     "from a qube: /etc/qubes-rpc/SERVICE+ARG or SERVICE in the target's root, with Qubes' "
     "QREXEC_* environment, its stdin, stdout and stderr joined to splq's.  A halted target is "
     "started unless the policy says autostart=no; a disposable is made for @dispvm and "
     "removed afterwards.  An ask is answered by dom0's qrexec_ask_program, or on this "
     "terminal.  Exits with the service's code; a refused call is 81.  Inside a qube, "
     "qrexec-client-vm makes the same calls."},
    {"copy", NULL, cmd_copy, "copy files between qubes, or between a qube and the host",
     "copy --from SOURCE --to TARGET [--verify] [--dest DIR] [--ignore-symlinks] PATH...",
     OPTS("-f, --from SOURCE", "the qube the files are in, or dom0 (the host)",
          "-t, --to TARGET",
          "where they go: a qube, @default, @dispvm[:DVM], or dom0 (with --dest)",
          "    --verify",
          "compute every file's SHA-256 at both ends, compare them, and remove the copy if "
          "one differs",
          "-d, --dest DIR", "with --to dom0: the host folder the files land in",
          "    --ignore-symlinks", "leave symbolic links out", JSON_OPT HELP_OPT),
     "Copies each PATH (in SOURCE, relative to its user's home; a folder with its tree) to "
     "TARGET's ~/QubesIncoming/SOURCE/, as qvm-copy does in Qubes (the qubes.Filecopy "
     "service, which the policy must allow from SOURCE to TARGET).  A name that is there "
     "already is never overwritten: the copy fails and nothing of it stays.  Progress "
     "(bytes, files, rate) is shown on a terminal.  A copy takes at most 60 PATHs."},
    {"move", NULL, cmd_move, "move files between qubes, or between a qube and the host",
     "move --from SOURCE --to TARGET [--secure] [--dest DIR] [--ignore-symlinks] PATH...",
     OPTS("-f, --from SOURCE", "the qube the files are in, or dom0 (the host)",
          "-t, --to TARGET", "where they go, as for copy",
          "-S, --secure",
          "overwrite the data of the source files before removing them (see the README for "
          "what this cannot promise)",
          "-d, --dest DIR", "with --to dom0: the host folder the files land in",
          "    --ignore-symlinks", "leave symbolic links out", JSON_OPT HELP_OPT),
     "A verified copy (see copy --verify), then each PATH is removed in SOURCE, only once the "
     "target confirmed every file's SHA-256.  When the copy fails at any point, the source "
     "stays as it was."},
    {"qrexec-in", NULL, cmd_qrexec_in, "serve one qrexec call made in a qube",
     "qrexec-in [--warm] SOURCE",
     OPTS("    --warm",
          "open the store first, then take the call's connection from standard input, a "
          "socketpair of the supervisor's (SCM_RIGHTS); its closing means no call",
          HELP_OPT),
     "Serves the call that qube SOURCE made on its qrexec socket, whose connection is "
     "standard input.  A qube's supervisor runs it for each call; it is not meant to be "
     "run by hand."},
    {"policy", NULL, cmd_policy, "show where the qrexec policy lives",
     "policy\n"
     "       splq policy eval|check ...",
     OPTS(JSON_OPT HELP_OPT),
     "Prints the policy directory, $SPLQ_HOME/policy.d/: its *.policy files, in name order, "
     "hold the rules in Qubes' policy format (v5).  When it is missing, splq makes it with "
     "90-splq-default.policy, which denies every call between qubes."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct cli_command *cli_command_find(const char *w1, const char *w2, int *used)
{
	size_t n1 = strlen(w1);

	for (const struct cli_command *c = cli_commands; c->name; c++) {
		const char *space = strchr(c->name, ' ');

		if (space) {
			for (int k = 0; k < 2; k++) {
				const char *name = k ? c->alias : c->name;
				const char *sp = name ? strchr(name, ' ') : NULL;

				if (sp && (size_t)(sp - name) == n1 && strncmp(name, w1, n1) == 0 &&
				    w2 && strcmp(sp + 1, w2) == 0) {
					*used = 2;
					return c;
				}
			}
			continue;
		}
		if (strcmp(c->name, w1) == 0 || (c->alias && strcmp(c->alias, w1) == 0)) {
			*used = 1;
			return c;
		}
	}
	return NULL;
}

bool cli_command_is_group(const char *word)
{
	size_t n = strlen(word);

	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strncmp(c->name, word, n) == 0 && c->name[n] == ' ')
			return true;
	return false;
}

/* Print text from column indent (the cursor is at column at), wrapped at
 * WRAP columns on spaces. */
#define WRAP 79
static void wrap(FILE *f, const char *text, int indent, int at)
{
	while (*text) {
		int room = WRAP - at, len = (int)strlen(text), cut = len;

		if (len > room) {
			cut = room;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0) /* one long word: break after it */
				cut = (int)strcspn(text, " ");
		}
		fprintf(f, "%.*s\n", cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		if (*text)
			fprintf(f, "%*s", indent, "");
		at = indent;
	}
}

void cli_print_usage(FILE *f, const struct cli_command *c)
{
	fprintf(f, "Usage: splq %s\n", c->synopsis);
	if (c->alias)
		fprintf(f, "       splq %s ...\n", c->alias);
	if (c->options && c->options[0]) {
		fprintf(f, "\nOptions:\n");
		for (const char *const *o = c->options; o[0] && o[1]; o += 2) {
			int n = fprintf(f, "  %s", o[0]);

			if (n > 25) {
				fprintf(f, "\n%*s", 27, "");
				n = 27;
			} else {
				fprintf(f, "%*s", 27 - n, "");
				n = 27;
			}
			wrap(f, o[1], 27, n);
		}
	}
	fputc('\n', f);
	wrap(f, c->description, 0, 0);
	fflush(f);
}

void cli_print_group_usage(FILE *f, const char *group)
{
	size_t n = strlen(group);

	fprintf(f, "Usage:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ')
			fprintf(f, "  splq %-40s %s\n", c->synopsis, c->summary);
	fprintf(f, "\nRun 'splq %s SUBCOMMAND --help' for more.\n", group);
	fflush(f);
}

void cli_print_main_usage(FILE *f)
{
	fprintf(f, "Usage: splq [--json] COMMAND [ARGS]\n"
	           "       splq help [COMMAND]        splq help --man [PAGE]\n"
	           "       splq --version\n\n"
	           "Qubes OS compartments (qubes) built from Linux kernel isolation.\n\n"
	           "Commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		char name[64];

		snprintf(name, sizeof(name), c->alias ? "%s, %s" : "%s", c->name, c->alias);
		fprintf(f, "  %-16s %s\n", name, c->summary);
	}
	fprintf(f, "\nOptions:\n"
	           "  --json            print one JSON object on stdout (also accepted among a\n"
	           "                    command's options)\n"
	           "  -h, --help        print this help and exit\n"
	           "  --version         print the version and exit\n\n"
	           "Every command but help needs root.  Environment: SPLQ_HOME (default\n"
	           "/var/lib/splq), SPLQ_RUN (default /run/splq), SPLQ_CGROUP (cgroup parent,\n"
	           "default splq), SPLQ_BUSY_TIMEOUT (ms to wait for a locked store).\n"
	           "Run 'splq COMMAND --help' for a command's options.\n");
	fflush(f);
}

/* The option words of an option's text: "-u, --user USER" gives -u and
 * --user; "--[no-]filter-escape-chars" both forms. */
static void completion_options(FILE *f, const struct cli_command *c)
{
	for (const char *const *o = c->options; o && o[0]; o += 2) {
		for (const char *p = o[0]; *p;) {
			p += strspn(p, " ,");
			size_t n = strcspn(p, " ,=[");
			if (p[n] == '[' && strncmp(p + n, "[no-]", 5) == 0)
				n += strcspn(p + n, " ,=");
			if (n == 0) /* '=' or '[' before a word: the rest is a value's */
				break;
			if (n > 1 && p[0] == '-') {
				const char *no = strstr(p, "[no-]");
				if (no && no < p + n) {
					size_t pre = (size_t)(no - p);
					fprintf(f, " %.*s%.*s %.*sno-%.*s", (int)pre, p,
					        (int)(n - pre - 5), no + 5, (int)pre, p,
					        (int)(n - pre - 5), no + 5);
				} else {
					fprintf(f, " %.*s", (int)n, p);
				}
			}
			p += n;
			if (*p == '=' || (*p == ' ' && p[1] != '-'))
				break; /* the value's name */
		}
	}
}

/* Is the first word of c's name (first: its alias's) one of an earlier
 * command's first words or aliases? */
static bool first_word_seen(const struct cli_command *c, const char *word, size_t n)
{
	for (const struct cli_command *d = cli_commands; d < c; d++) {
		if (strncmp(d->name, word, n) == 0 && (d->name[n] == ' ' || !d->name[n]))
			return true;
		if (d->alias && strncmp(d->alias, word, n) == 0 &&
		    (d->alias[n] == ' ' || !d->alias[n]))
			return true;
	}
	return false;
}

/* For the first command of a group ("audit log" of audit's): the length
 * of the group's word; else 0. */
static size_t group_first(const struct cli_command *c)
{
	const char *sp = strchr(c->name, ' ');
	size_t g = sp ? (size_t)(sp - c->name) : 0;
	for (const struct cli_command *d = cli_commands; g && d < c; d++)
		if (strncmp(d->name, c->name, g) == 0 && d->name[g] == ' ')
			return 0;
	return g;
}

void cli_print_completion(FILE *f)
{
	fprintf(f, "# bash completion for splq: made by 'splq help --completion' from its\n"
	           "# command table (the same one --help and docs/commands.md come from).\n"
	           "_splq() {\n"
	           "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
	           "\tlocal i w cmd= n=0\n"
	           "\t# the command: its first word, and a group's second\n"
	           "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	           "\t\tw=${COMP_WORDS[i]}\n"
	           "\t\t[[ $w == -* ]] && continue\n"
	           "\t\tif [ -z \"$cmd\" ]; then\n"
	           "\t\t\tcmd=$w\n"
	           "\t\t\tcase $w in");
	/* the groups: words that begin two-word commands */
	bool any = false;
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		size_t g = group_first(c);
		if (g) {
			fprintf(f, "%s%.*s", any ? "|" : " ", (int)g, c->name);
			any = true;
		}
	}
	fprintf(f, ") n=1 ;; esac\n"
	           "\t\telif [ \"$n\" = 1 ]; then\n"
	           "\t\t\tcmd=\"$cmd $w\"\n"
	           "\t\t\tn=2\n"
	           "\t\telse\n"
	           "\t\t\tn=$((n + 1))\n"
	           "\t\tfi\n"
	           "\tdone\n"
	           "\tif [ -z \"$cmd\" ]; then\n"
	           "\t\tCOMPREPLY=($(compgen -W \"help");
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		size_t n = strcspn(c->name, " ");
		if (!first_word_seen(c, c->name, n))
			fprintf(f, " %.*s", (int)n, c->name);
		if (c->alias && !strchr(c->alias, ' ') && !first_word_seen(c, c->alias, strlen(c->alias)))
			fprintf(f, " %s", c->alias);
	}
	fprintf(f, " --json --help --version\" -- \"$cur\"))\n"
	           "\t\treturn\n"
	           "\tfi\n"
	           "\tlocal opts=\n"
	           "\tcase $cmd in\n");
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		size_t g = group_first(c);
		if (!g)
			continue;
		/* the group word alone: its second words (a word that is a
		 * command too, policy, offers them first) */
		fprintf(f, "\t%.*s)\n\t\tif [[ $cur != -* ]]; then\n\t\t\tCOMPREPLY=($(compgen -W \"",
		        (int)g, c->name);
		for (const struct cli_command *d = c; d->name; d++)
			if (strncmp(d->name, c->name, g) == 0 && d->name[g] == ' ')
				fprintf(f, " %s", d->name + g + 1);
		fprintf(f, "\" -- \"$cur\"))\n\t\t\treturn\n\t\tfi ;;\n");
	}
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		const char *sp = strchr(c->name, ' ');
		if (sp) /* a group's second words, when only the first is there */
			continue;
		fprintf(f, "\t%s%s%s) opts=\"", c->name, c->alias ? "|" : "", c->alias ? c->alias : "");
		completion_options(f, c);
		fprintf(f, "\" ;;\n");
	}
	/* the groups' commands: their options */
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (!strchr(c->name, ' '))
			continue;
		fprintf(f, "\t'%s'%s%s%s) opts=\"", c->name, c->alias ? " | '" : "",
		        c->alias ? c->alias : "", c->alias ? "'" : "");
		completion_options(f, c);
		fprintf(f, "\" ;;\n");
	}
	fprintf(f, "\tesac\n"
	           "\tif [[ $cur == -* ]]; then\n"
	           "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	           "\t\treturn\n"
	           "\tfi\n"
	           "\tcase $prev in\n"
	           "\t-l | --label)\n"
	           "\t\tCOMPREPLY=($(compgen -W \"red orange yellow green gray blue purple black\" "
	           "-- \"$cur\"))\n"
	           "\t\treturn ;;\n"
	           "\t-t | --template | --netvm | --dispvm | --exclude | -q | --qube | --from | --to)\n"
	           "\t\tCOMPREPLY=($(compgen -W \"$(splq ls --all --raw-list 2>/dev/null)\" -- "
	           "\"$cur\"))\n"
	           "\t\treturn ;;\n"
	           "\tesac\n"
	           "\t# prefs QUBE PROPERTY: the properties\n"
	           "\tif [ \"$cmd\" = prefs ] && [ \"$n\" = 1 ]; then\n"
	           "\t\tCOMPREPLY=($(compgen -W \"$(splq prefs --help-properties 2>/dev/null | "
	           "awk 'NR > 1 { print $1 }')\" -- \"$cur\"))\n"
	           "\t\treturn\n"
	           "\tfi\n"
	           "\tCOMPREPLY=($(compgen -W \"$(splq ls --all --raw-list 2>/dev/null)\" -- "
	           "\"$cur\"))\n"
	           "}\n"
	           "complete -F _splq splq\n");
}
