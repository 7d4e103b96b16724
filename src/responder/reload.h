/* SPDX-License-Identifier: ISC */
/*
 * reload.h: the configuration a running responder serves with. It is read at start and
 * again on SIGHUP; each request holds the snapshot it began under (snapshot.h), so a
 * reload changes no request in hand, and the configuration it replaces is freed when the
 * last request begun under it ends. A reload that cannot be applied is refused with one
 * line on stderr, and the running configuration is kept: a file that does not load (its
 * syntax, a secret file missing or badly owned), or one that changes a key only a restart
 * changes (config_restart_key()).
 */
#ifndef IDW_RELOAD_H
#define IDW_RELOAD_H

struct config;
struct file_owner;
struct snapshot;
struct running_config;

/*
 * The running configuration, from cfg, which is moved in (*cfg is left zeroed: config_free()
 * on it is harmless). A reload reads cfg->path again, with service as the owner its files
 * may have besides root (config_load_as()). NULL: out of memory (said; cfg is freed).
 */
struct running_config	*running_config_new(struct config *, const struct file_owner *service);
void			 running_config_free(struct running_config *);

/* The configuration now, held until snapshot_let_go(); snapshot_config() is what it holds. */
struct snapshot		*running_config_take(struct running_config *);
const struct config	*snapshot_config(const struct snapshot *);

/*
 * Read the file and its secret files again, and serve every request begun from now on with
 * them. 0 (said in one line), or -1: refused (said in one line), the running one is kept.
 */
int	running_config_reload(struct running_config *);

/*
 * The first key that only a restart changes (log, env, sync, dedup_window: what is written
 * to the log, where and how, which every process writing it must agree on) whose value in
 * next differs from running's; NULL if there is none.
 */
const char	*config_restart_key(const struct config *running, const struct config *next);

#endif
