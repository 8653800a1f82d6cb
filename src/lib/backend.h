/* splq: the backend interface.  A backend is a table of functions; ops
 * never test which backend they hold.  Two implementations: native
 * (kernel isolation, native/) and, later, qubes (Admin API + qrexec). */
#ifndef SPLQ_BACKEND_H
#define SPLQ_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "model.h"

enum splq_power {
	SPLQ_HALTED,
	SPLQ_RUNNING,
	SPLQ_TRANSIENT,
	SPLQ_HALTING,
	SPLQ_PAUSED, /* frozen (the cgroup freezer): by pause, or a preloaded disposable */
	SPLQ_POWER_NA
};
const char *splq_power_name(enum splq_power p); /* "Halted", "Running", ... */

/* Everything a backend needs to know of one qube, resolved by ops from the
 * store: the backend never reads the store. */
struct splq_vm_config {
	const char *name;
	enum splq_class klass;
	int slot;		 /* uid range index */
	const char *root_of;	 /* qube whose root volume this one uses: its
				  * template (AppVM, DispVM) or itself */
	const char *root_base;	 /* that root's base: "host" (host /usr bound
				  * read-only) or a directory, or NULL */
	const char *private_of;	 /* DispVM: the dvm whose private volume it
				  * starts from (NULL: an empty one) */
	bool dvm;		 /* disposables start from its private volume
				  * (an AppVM with template_for_dispvms) */
	bool discard;		 /* a disposable that goes once it has halted:
				  * its supervisor then runs `splq discard`, and
				  * wait returns with the command's status */
	long memory_mib;	 /* memory it is given: the cgroup's soft limit */
	long maxmem_mib;	 /* memory it may grow to: the hard limit (0:
				  * memory_mib is the hard limit too) */
	long vcpus;		 /* cpu quota, in cpus */
	long shutdown_timeout_s; /* graceful stop before the kill */
	long qrexec_timeout_s;	 /* how long pid 1 may take to answer */
	bool allow_io_uring;	 /* the feature splq.allow-io_uring */
	/* volume sizes in bytes (a disposable's are its dvm's) */
	unsigned long long private_size, volatile_size, root_size;
	/* network (reference/qubes.md §7): with netvm "" and provides_network
	 * false, loopback only */
	struct splq_vm_net {
		char netvm[SPLQ_NAME_MAX + 1]; /* the network qube it is a client of */
		bool provides_network;	       /* it routes and NATs for clients */
		char uplink[80];	       /* a network qube's own: "", "none",
						* "pasta", "netns:NAME" */
		int id;			       /* its link in the netvm: vif<id> */
		char ip4[SPLQ_NET_ADDR_MAX], ip6[SPLQ_NET_ADDR_MAX];
		char gw4[SPLQ_NET_ADDR_MAX], gw6[SPLQ_NET_ADDR_MAX]; /* the netvm's */
		/* its firewall rules, Qubes' text (formats/firewall.h), one
		 * a line; NULL: Qubes' default, action=accept */
		const char *firewall;
	} net;
};

/* What a run tells beside the command's exit code.  The backend fills
 * oom; ops fill the rest, for the message. */
struct splq_exec_info {
	bool oom;	  /* the command ended by SIGKILL while the kernel killed
			   * processes of the qube for want of memory (its
			   * memory cgroup's OOM-kill count grew) */
	long limit_mib;	       /* the qube's hard memory limit */
	const char *limit_prop; /* the property that sets it: "maxmem", or
				 * "memory" where maxmem is 0 */
	char memory_of[SPLQ_NAME_MAX + 1]; /* the qube whose property that is
					    * (a disposable's dvm) */
	pid_t pid;     /* the backend's: the command's pid in the qube's pid
			* namespace, once it started (0: not known) */
	pid_t remover; /* the backend's: the process that removes a
			* disposable that goes once halted (discard), when wait
			* returned before it; 0: wait waited for all there was,
			* and what is left is the caller's to remove */
};

#define SPLQ_EXEC_ENV_MAX 12

/* A command to run in a qube.  fds[0..2] are the caller's stdin, stdout
 * and stderr: they never enter the qube; the backend relays bytes between
 * them and pipes (or a pseudo-terminal) of the qube's own.  user is a name
 * in the qube's /etc/passwd ("root", "user"). */
struct splq_exec {
	char *const *argv; /* with tty, may be empty: the user's login shell */
	const char *user;
	int fds[3];
	bool no_wait;	 /* start it and return (status 0); no stdio */
	bool tty;	 /* a pseudo-terminal in the qube, the caller's terminal
			  * (fds[0], if one) raw meanwhile */
	int filter;	 /* bytes to fds[1], fds[2] that are not printable
			  * ASCII become '_' (qvm-run's filter): 1 always,
			  * 0 never, -1 where that fd is a terminal and
			  * without tty */
	long long max_output; /* bytes at most to each of fds[1], fds[2]
			       * (0: no bound): past it the command is
			       * killed and SPLQ_E_TOOBIG returned */
	struct splq_exec_info *info; /* out, may be NULL */
	/* A qrexec service instead of argv (qrexec/wire.h): SERVICE+ARG,
	 * looked up by the qube in its own root, with env (NULL-terminated
	 * NAME=VALUE strings, the QREXEC_* variables, at most 12) and no
	 * tty. */
	const char *service;
	/* For a command: NAME=VALUE strings (at most 12) beside TERM and LANG
	 * (run -e), and the directory it starts in (NULL: the user's home). */
	char *const *env;
	const char *workdir;
	bool direct;	/* fds[0..2] are pipes made for one qrexec call: they
			 * go into the qube as they are, with no relay (never
			 * the caller's own stdio); and hangup_fd is the
			 * caller's connection, whose closing hangs the
			 * command up */
	int hangup_fd;
	bool no_autostart; /* ops: a halted qube is not started for it */
	/* ops (run), may be NULL: told the exit status as soon as the
	 * command ended, before the audit entry is written (a qrexec call's
	 * caller waits for it) */
	void (*exited)(void *arg, int status);
	void *exited_arg;
};

/* What the host that runs the qubes has: a qube may not ask for more. */
struct splq_host_resources {
	long cpus;	 /* CPUs splq may run on */
	long memory_mib; /* the host's memory */
};

/* What a running qube uses now (podman stats); -1: not known. */
struct splq_usage {
	long long memory;     /* bytes */
	long long memory_max; /* its hard limit, bytes (LLONG_MAX: none) */
	long long cpu_usec;   /* CPU time since it started */
	long long pids;	      /* processes and threads */
};

/* A process in a running qube (podman top), as the qube sees it. */
struct splq_process {
	int pid, ppid;	  /* in the qube's pid namespace (0: its parent is
			   * outside it) */
	long uid;	  /* in the qube's user namespace, -1: not known */
	long long cpu_ms; /* CPU time it has had */
	char state;	  /* R, S, D, Z, T, ... */
	char *cmd;	  /* its command line, as the qube made it (hostile: print
			   * it escaped) */
};
void splq_processes_free(struct splq_process *v, int n);

struct splq_backend;

struct splq_backend_ops {
	const char *name;
	int (*host_resources)(struct splq_backend *b, struct splq_host_resources *out,
			      struct splq_error *err);
	/* Volumes.  create: a template's root from its base (root_base),
	 * a StandaloneVM's copy of its template's root, the private volume. */
	int (*volumes_create)(struct splq_backend *b, const struct splq_vm_config *cfg,
			      struct splq_error *err);
	/* Copy src's volumes to dst (clone); dst's uid range is its own. */
	int (*volumes_clone)(struct splq_backend *b, const struct splq_vm_config *src,
			     const struct splq_vm_config *dst, struct splq_error *err);
	/* Remove every volume and runtime leftover of a halted qube; a missing
	 * volume is not an error. */
	int (*volumes_remove)(struct splq_backend *b, const struct splq_vm_config *cfg,
			      struct splq_error *err);

	/* Bytes of the host's disk that volume v (an index of
	 * splq_volume_names) takes, or -1 when that is not known (a tmpfs, a
	 * directory). */
	long long (*volume_usage)(struct splq_backend *b, const struct splq_vm_config *cfg, int v);
	/* What the running qube name uses now; SPLQ_E_STATE when it is not
	 * running.  May be NULL. */
	int (*usage)(struct splq_backend *b, const char *name, struct splq_usage *out,
	             struct splq_error *err);
	/* The processes of the running qube name, by pid; SPLQ_E_STATE when
	 * it is not running.  May be NULL. */
	int (*processes)(struct splq_backend *b, const char *name, struct splq_process **out,
	                 int *n, struct splq_error *err);
	/* Grow volume v of a qube that keeps it to size bytes (never
	 * smaller).  A running qube's private volume grows at once (*live);
	 * the others at the qube's next start. */
	int (*volume_grow)(struct splq_backend *b, const struct splq_vm_config *cfg, int v,
	                   unsigned long long size, bool *live, struct splq_error *err);

	enum splq_power (*state)(struct splq_backend *b, const char *name);
	/* Start; with first != NULL the qube's init runs that command and the
	 * qube stops when it ends (disposables): collect it with wait(). */
	int (*start)(struct splq_backend *b, const struct splq_vm_config *cfg,
		     const struct splq_exec *first, struct splq_error *err);
	/* Run a command in a running qube; *status is its exit code (128+N
	 * for a signal N). */
	int (*run)(struct splq_backend *b, const struct splq_vm_config *cfg,
		   const struct splq_exec *x, int *status, struct splq_error *err);
	/* Wait until the qube has stopped and everything of it is cleaned up;
	 * *status is the exit code of the first command (start with first).
	 * timeout_ms < 0 waits for ever; on expiry the qube is killed and
	 * SPLQ_E_TIMEOUT returned.  SIGINT, SIGTERM and SIGHUP to the caller
	 * during the wait kill the qube too; *signo then names the signal. */
	int (*wait)(struct splq_backend *b, const char *name, long timeout_ms, int *status,
		    int *signo, struct splq_error *err);
	/* Graceful stop (SIGTERM to everything in it), then kill after
	 * cfg->shutdown_timeout_s; with wait, return only when halted. */
	int (*shutdown)(struct splq_backend *b, const struct splq_vm_config *cfg, bool force,
			bool wait, struct splq_error *err);
	int (*kill)(struct splq_backend *b, const char *name, struct splq_error *err);
	/* Does running qube cfg->name use the volumes a start of it would
	 * take now (its template's current root; a disposable's dvm's
	 * current private snapshot)? */
	bool (*fresh)(struct splq_backend *b, const struct splq_vm_config *cfg);
	/* Freeze (paused) or thaw every process of a running qube; shutdown
	 * and kill thaw a paused one first. */
	int (*pause)(struct splq_backend *b, const char *name, bool paused,
	             struct splq_error *err);
	/* A running qube's network again, as cfg->net says now: linked to
	 * its (running) netvm, or cut off when it has none. */
	int (*net_relink)(struct splq_backend *b, const struct splq_vm_config *cfg,
			  struct splq_error *err);
	/* A running client's firewall again, cfg->net.firewall, in its
	 * running netvm (nothing to do while that one is halted). */
	int (*firewall_apply)(struct splq_backend *b, const struct splq_vm_config *cfg,
			      struct splq_error *err);
	/* Write the qube's log (what its --no-wait commands wrote, and its
	 * pid 1's messages), oldest first, to fd; with follow, then what it
	 * gets until the qube is halted.  filter as splq_exec's (-1: where fd
	 * is a terminal).  A qube that never ran has an empty log. */
	int (*logs)(struct splq_backend *b, const char *name, int fd, int filter, bool follow,
		    struct splq_error *err);
	void (*free)(struct splq_backend *b);
};

struct splq_backend {
	const struct splq_backend_ops *ops;
	char *home; /* SPLQ_HOME */
	char *run;  /* SPLQ_RUN */
};

/* native/native.c */
int splq_backend_native_new(const char *home, const char *run, struct splq_backend **out,
			    struct splq_error *err);

#endif
