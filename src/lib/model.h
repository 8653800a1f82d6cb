/* splq: the Qubes domain model: classes, names, labels, properties, tags,
 * features (reference/qubes.md §1).  Pure functions: no I/O. */
#ifndef SPLQ_MODEL_H
#define SPLQ_MODEL_H

#include <stdbool.h>

#include "error.h"

enum splq_class {
	SPLQ_CLASS_ADMINVM,
	SPLQ_CLASS_TEMPLATEVM,
	SPLQ_CLASS_APPVM,
	SPLQ_CLASS_DISPVM,
	SPLQ_CLASS_STANDALONEVM,
	SPLQ_CLASS_COUNT
};

/* "TemplateVM", ... ; -1 from parse for an unknown name. */
const char *splq_class_name(enum splq_class c);
int splq_class_parse(const char *name);
/* Does a qube of this class have a template (AppVM, DispVM)? */
bool splq_class_has_template(enum splq_class c);

/* Qubes' name rule: ^[a-zA-Z][a-zA-Z0-9_.-]*$, at most 31 characters, not
 * "none", "default", "Domain-0", not ending in "-dm".  On failure the
 * message says which clause was broken. */
#define SPLQ_NAME_MAX 31
int splq_name_check(const char *name, struct splq_error *err);

/* Labels: index 1..8, name, colour.  splq_label_find takes a name in any
 * case, or an index. */
struct splq_label {
	int index;
	const char *name;
	unsigned colour; /* 0xRRGGBB */
};
const struct splq_label *splq_label_find(const char *name_or_index);
const struct splq_label *splq_label_by_index(int index);
extern const struct splq_label splq_labels[8];

/* Property types as the Admin API names them. */
enum splq_prop_type { SPLQ_PT_STR, SPLQ_PT_INT, SPLQ_PT_BOOL, SPLQ_PT_VM, SPLQ_PT_LABEL };
const char *splq_prop_type_name(enum splq_prop_type t); /* "str", "int", ... */

struct splq_prop_def {
	const char *name;
	enum splq_prop_type type;
	const char *dflt;  /* default value as text ("" for an empty vm), or NULL
			    * when the default depends on the qube (see below) */
	long min, max;	   /* range for ints */
	bool readonly;	   /* name, klass, uuid: shown, never set */
	bool needs_halted; /* may only change while the qube is halted */
	unsigned classes;  /* bit (1 << class) for each class that has it */
	const char *help;
};

/* maxmem's default (MiB), or memory where that is more. */
#define SPLQ_MAXMEM_DEFAULT 4000

/* The table, in the order prefs lists them; NULL-named sentinel at the end. */
extern const struct splq_prop_def splq_props[];
const struct splq_prop_def *splq_prop_find(const char *name);

/* Check and canonicalise a value for a property (type and range only;
 * whether a vm value names a qube of the right class is the store's and
 * ops' business).  Bools accept True/False/true/false/1/0/yes/no and
 * come out "True"/"False"; ints come out in decimal; labels by name.
 * *out is malloc'ed. */
int splq_prop_parse(const struct splq_prop_def *def, const char *value, char **out,
		    struct splq_error *err);

/* Network addresses as Qubes OS gives them (reference/qubes.md §7), from
 * a qube's id (its slot; a disposable's dispN number): 10.137.X.Y (a
 * disposable 10.138.X.Y) and fd09:24ef:4179::a89:ID (::a8a:). */
#define SPLQ_NET_ADDR_MAX 48
#define SPLQ_NET_DNS1	  "10.139.1.1"
#define SPLQ_NET_DNS2	  "10.139.1.2"
#define SPLQ_NET_MAC	  "00:16:3e:5e:6c:00"
#define SPLQ_NET_NETMASK  "255.255.255.255"
void splq_net_ip4(int id, bool disp, char out[SPLQ_NET_ADDR_MAX]);
void splq_net_ip6(int id, bool disp, char out[SPLQ_NET_ADDR_MAX]);
/* N of a disposable's name dispN, or -1. */
int splq_net_dispid(const char *name);
/* The uplink property: empty, none, pasta or netns:NAME. */
int splq_uplink_check(const char *value, struct splq_error *err);

/* Tags: free strings of [A-Za-z0-9_.:-], 1..255 bytes. */
int splq_tag_check(const char *tag, struct splq_error *err);
/* Feature names [A-Za-z0-9_.-]+ (1..255); values printable ASCII (0..4096). */
int splq_feature_name_check(const char *name, struct splq_error *err);
int splq_feature_value_check(const char *value, struct splq_error *err);

/* Features splq itself reads (docs/commands.md). */
#define SPLQ_FEATURE_ALLOW_IO_URING "splq.allow-io_uring" /* boolean */
/* Check a feature before it is set: name and value as above, and a
 * boolean feature's value one of 1/True/true/yes (on) or 0/False/false/no
 * or empty (off, as an empty feature is in Qubes OS). */
int splq_feature_check(const char *name, const char *value, struct splq_error *err);
/* Is a boolean feature's value on?  Anything but an "on" value is off. */
bool splq_feature_on(const char *value);

/* Unix user names for default_user and run --user: [a-z_][a-z0-9_-]*, <= 32. */
int splq_user_name_check(const char *name, struct splq_error *err);

/* Volumes (reference/qubes.md §7): every qube but dom0 has root, private
 * and volatile; sizes are bytes. */
#define SPLQ_MIB                   (1024ULL * 1024)
#define SPLQ_GIB                   (1024ULL * SPLQ_MIB)
#define SPLQ_SIZE_MIN              (16 * SPLQ_MIB)
#define SPLQ_SIZE_MAX              (16ULL * 1024 * SPLQ_GIB)
#define SPLQ_PRIVATE_SIZE_DEFAULT  (2 * SPLQ_GIB)
#define SPLQ_ROOT_SIZE_DEFAULT     (10 * SPLQ_GIB)
#define SPLQ_VOLATILE_SIZE_DEFAULT (10 * SPLQ_GIB)
extern const char *const splq_volume_names[3]; /* "root", "private", "volatile" */
/* The index of a volume name in splq_volume_names, or -1. */
int splq_volume_index(const char *name);
unsigned long long splq_volume_default_size(int index);
/* A size as qvm-volume takes it: digits, then nothing or B (bytes), K, M,
 * G, T or Ki, Mi, Gi, Ti, with or without a B (KiB...: binary, 1024), or
 * KB, MB, GB, TB (decimal, 1000).  Rounded up to a whole MiB, then checked
 * against SPLQ_SIZE_MIN..SPLQ_SIZE_MAX.  SPLQ_E_VALUE on bad input. */
int splq_size_parse(const char *text, unsigned long long *out, struct splq_error *err);
/* The same units, exactly, unrounded, at most SPLQ_SIZE_MAX. */
int splq_bytes_parse(const char *text, unsigned long long *out, struct splq_error *err);
/* A duration as the command line takes it everywhere (--timeout, the age
 * of --since): digits, then nothing or s (seconds), m, h or d: "30",
 * "30s", "5m", "1h", "2d".  In seconds, at most max_s; SPLQ_E_VALUE on bad
 * input, naming it. */
int splq_duration_parse(const char *text, long long max_s, long long *out_s,
                        struct splq_error *err);
/* "2 GiB", "512 MiB", "17 B": the largest binary unit that divides it. */
void splq_size_format(unsigned long long bytes, char *buf, unsigned long len);

#endif
