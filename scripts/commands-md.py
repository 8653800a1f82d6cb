#!/usr/bin/env python3
"""docs/commands.md's synopses, written from splq's command table.

Each synopsis block in docs/commands.md follows a line
``<!-- synopsis: NAME[, NAME...] -->`` naming the commands it shows; this
script writes those blocks from `splq help --json` (the table that --help,
the man pages and the completion come from), so the four never disagree.

    scripts/commands-md.py SPLQ [DOC]          rewrite DOC's blocks
    scripts/commands-md.py --check SPLQ [DOC]  exit 1, with a diff, when
                                               DOC is not what it would write
                                               or a command has no block
"""
import difflib
import json
import re
import subprocess
import sys

MARK = re.compile(r"^<!-- synopsis: ([^\n]+) -->\n```\n(.*?)```\n", re.M | re.S)


def synopsis(cmd):
    """The command's forms as --help prints them, without 'Usage: ', each
    line that goes on from the one before under that form's first
    argument; an alias's form after the first."""
    forms = []
    for line in cmd["synopsis"].split("\n"):
        words = line.strip()
        if not forms or words.startswith("splq "):
            form = words if words.startswith("splq ") else "splq " + words
            name = form.split(" ")[1] if " " in form else form
            forms.append([form, " " * (len("splq ") + len(cmd["name"]) + 1)])
        else:
            forms[-1].append(words)
    out = []
    for form in forms:
        out.append(form[0])
        out += [form[1] + more for more in form[2:]]
    if cmd["alias"]:
        out.insert(len(forms[0]) - 1, "splq " + cmd["alias"] + forms[0][0][len("splq " + cmd["name"]):])
    return out


def write(doc, commands):
    seen = set()

    def block(m):
        names = [n.strip() for n in m.group(1).split(",")]
        lines = []
        for name in names:
            if name not in commands:
                sys.exit(f"commands-md: no command '{name}' in splq's table")
            seen.add(name)
            lines += synopsis(commands[name])
        return f"<!-- synopsis: {m.group(1)} -->\n```\n" + "\n".join(lines) + "\n```\n"

    text = MARK.sub(block, doc)
    return text, [n for n in commands if n not in seen]


def main(argv):
    check = argv[:1] == ["--check"]
    argv = argv[1:] if check else argv
    if not 1 <= len(argv) <= 2:
        sys.exit(__doc__)
    path = argv[1] if len(argv) > 1 else "docs/commands.md"
    out = subprocess.run([argv[0], "help", "--json"], check=True, capture_output=True, text=True)
    commands = {c["name"]: c for c in json.loads(out.stdout)["commands"]}
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    text, missing = write(doc, commands)
    for name in missing:
        print(f"{path}: no synopsis block of '{name}'", file=sys.stderr)
    if check:
        if text != doc:
            sys.stderr.writelines(difflib.unified_diff(
                doc.splitlines(True), text.splitlines(True), path, path + " (from the table)"))
        return 1 if text != doc or missing else 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
