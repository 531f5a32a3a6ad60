/* The modprobe shim's logic: argument sorting, the alias check, serving a request with
 * the policy applied and the decision log written. See shim.h for the contract; the
 * command is src/cmd/pml-modprobe.c.
 *
 * The shim sits on the critical path of every stall, so a request costs: one index
 * look-up (resolve), a dry-run plan only when the policy has deny lines, the inserts, and
 * a handful of write(2)s to the log. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/shim.h"
#include "loader/policy-file.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/timeutil.h"

/* An insert refused as busy is tried again every SHIM_GOING_WAIT_US, at most
 * SHIM_GOING_TRIES times (2 s: a module's exit and its removal take far less). */
#define SHIM_GOING_WAIT_US 25000
#define SHIM_GOING_TRIES 80

/* snprintf that may cut (messages only): vsnprintf keeps -Wformat-truncation quiet. */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t size,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void pml_shim_parse_args(int argc, char *const *argv, struct pml_shim_args *ret)
{
	bool all = false, remove = false, dashdash = false;

	memset(ret, 0, sizeof(*ret));
	ret->mode = PML_SHIM_EXEC;
	if (argc == 4 && !strcmp(argv[1], "-q") && !strcmp(argv[2], "--")) {
		/* Exactly what call_modprobe() passes. */
		ret->mode = PML_SHIM_KERNEL;
		ret->quiet = true;
		ret->names[ret->n_names++] = argv[3];
		return;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash || a[0] != '-' || !a[1]) {
			if (ret->n_names == PML_SHIM_NAMES_MAX) {
				ret->exec_why = "too many names";
				return;
			}
			ret->names[ret->n_names++] = a;
		} else if (!strcmp(a, "--")) {
			dashdash = true;
		} else if (a[1] == '-') {
			if (!strcmp(a, "--quiet"))
				ret->quiet = true;
			else if (!strcmp(a, "--verbose"))
				ret->verbose = true;
			else if (!strcmp(a, "--all"))
				all = true;
			else if (!strcmp(a, "--remove"))
				remove = true;
			else if (!strcmp(a, "--use-blacklist"))
				ret->use_blacklist = true;
			else if (strcmp(a, "--syslog")) {
				ret->exec_why = "an option pml does not serve";
				return;
			}
		} else {
			for (const char *c = a + 1; *c; c++) {
				switch (*c) {
				case 'q': ret->quiet = true; break;
				case 'v': ret->verbose = true; break;
				case 'a': all = true; break;
				case 'r': remove = true; break;
				case 'b': ret->use_blacklist = true; break;
				case 's': break;
				default:
					ret->exec_why = "an option pml does not serve";
					return;
				}
			}
		}
	}
	if (ret->n_names == 0) {
		ret->exec_why = "no module name";
		return;
	}
	/* "modprobe NAME param=value": module parameters are the real modprobe's job. */
	if (ret->n_names > 1 && !all && !remove) {
		ret->exec_why = "module parameters";
		return;
	}
	ret->mode = remove ? PML_SHIM_REMOVE : PML_SHIM_LOAD;
}

int pml_shim_check_alias(const char *alias, const char **why)
{
	const char *w = NULL;
	size_t len;
	int r = -EINVAL;

	if (!alias || !*alias) {
		w = "empty";
		goto out;
	}
	len = strnlen(alias, PML_SHIM_ALIAS_MAX + 1);
	if (len > PML_SHIM_ALIAS_MAX) {
		w = "too long";
		r = -ENAMETOOLONG;
		goto out;
	}
	if (alias[0] == '-') {
		w = "starts with '-'";
		goto out;
	}
	if (strstr(alias, "..")) {
		w = "contains '..'";
		goto out;
	}
	for (const unsigned char *c = (const unsigned char *)alias; *c; c++) {
		if (*c == '/') {
			w = "contains '/'";
			goto out;
		}
		if (*c < 0x20 || *c == 0x7f) {
			w = "contains a control character";
			goto out;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("_-:.,+=@()", *c))) {
			w = "contains a character no module alias has";
			goto out;
		}
	}
	r = 0;
out:
	if (why)
		*why = w;
	return r;
}

static void emit(const struct pml_shim_env *env, struct pml_event_rec *rec)
{
	int r;

	if (env->log_fd < 0)
		return;
	rec->t_ns = pml_now_ns();
	rec->source = env->source;
	if (!rec->pid)
		rec->pid = env->pid;
	if (!rec->comm)
		rec->comm = env->comm;
	r = pml_event_log_append(env->log_fd, rec);
	if (r < 0)
		pml_dbg("shim: decision log: %s", strerror(-r));
}

static void emit_need(const struct pml_shim_env *env, const char *alias,
		      struct pml_shim_outcome *o)
{
	struct pml_event_rec rec;

	o->ms = pml_ns_to_ms(pml_now_ns() - env->t_start_ns);
	pml_event_rec_init(&rec, PML_EV_NEED);
	rec.alias = alias;
	rec.module = o->module[0] ? o->module : NULL;
	rec.result = o->result;
	rec.reason = o->reason[0] ? o->reason : NULL;
	rec.ms = o->ms;
	rec.err = o->err < 0 && o->err != -ENOENT ? o->err : 0;
	emit(env, &rec);
}

/* The dry-run plan, checked against the policy: the modules that would be inserted and
 * that a deny line matches get a deny record. Returns the number denied. */
static int check_policy(const struct pml_shim_env *env, const char *alias,
			struct pml_shim_outcome *o)
{
	struct pml_op_result *plan = &o->op;
	int denied = 0, r;

	r = pml_loader_load(env->ld, alias, PML_LOAD_DRY_RUN | env->load_flags, plan);
	if (r < 0)
		return 0; /* the real load will report it */
	for (size_t i = 0; i < plan->n; i++) {
		const struct pml_policy_rule *rule;
		struct pml_event_rec rec;
		char why[192];

		if (!plan->mods[i].done || !pml_policy_file_denies(env->policy,
								    plan->mods[i].name, &rule))
			continue;
		snprintf(why, sizeof(why), "policy: deny %s (%s:%u)", rule->pattern,
			 env->policy->name, rule->line);
		if (!denied++) {
			say(o->reason, sizeof(o->reason), "%s%s%s", why,
				 strcmp(plan->mods[i].name, o->module) ? ", needed by " : "",
				 strcmp(plan->mods[i].name, o->module) ? o->module : "");
		}
		pml_event_rec_init(&rec, PML_EV_DENY);
		rec.module = plan->mods[i].name;
		rec.alias = alias;
		rec.reason = why;
		emit(env, &rec);
	}
	return denied;
}

static bool policy_has_denies(const struct pml_policy_file *p)
{
	if (!p)
		return false;
	for (size_t i = 0; i < p->n_rules; i++)
		if (p->rules[i].kind == PML_RULE_DENY)
			return true;
	return false;
}

int pml_shim_serve(const struct pml_shim_env *env, const char *alias,
		   struct pml_shim_outcome *out)
{
	struct pml_shim_outcome local, *o = out ? out : &local;
	char names[1][64], miss[PML_SHIM_ALIAS_MAX + 8];
	const char *why;
	size_t inserted = 0;
	int r, n;

	memset(o, 0, sizeof(*o));
	r = pml_shim_check_alias(alias, &why);
	if (r < 0) {
		char shown[64];

		/* Log a bounded, escaped prefix only (the log escapes control bytes). */
		snprintf(shown, sizeof(shown), "%s", alias ? alias : "");
		o->result = "error";
		o->err = r;
		snprintf(o->reason, sizeof(o->reason), "invalid alias: %s", why);
		emit_need(env, shown, o);
		return r;
	}
	n = pml_loader_resolve(env->ld, alias, names, 1);
	if (n <= 0) {
		o->result = n == 0 ? "no-module" : "error";
		o->err = n == 0 ? -ENOENT : n;
		snprintf(o->reason, sizeof(o->reason), "%s",
			 n == 0 ? "no module for this alias" : strerror(-n));
		emit_need(env, alias, o);
		return o->err;
	}
	snprintf(o->module, sizeof(o->module), "%s", names[0]);

	if (policy_has_denies(env->policy) && check_policy(env, alias, o) > 0) {
		o->result = "denied";
		o->err = -EPERM;
		emit_need(env, alias, o);
		return o->err;
	}

	r = pml_loader_load(env->ld, alias, env->load_flags, &o->op);
	if (r == -ENOENT && o->op.n > 0) {
		/* An insert failed on missing symbols: a dependency was being unloaded (an
		 * eviction racing this request). Once more, from a fresh plan. */
		pml_warn("%s: a step failed (%s); planning again", alias, strerror(-r));
		usleep(50000);
		r = pml_loader_load(env->ld, alias, env->load_flags, &o->op);
	}
	/* An insert refused with EBUSY: the kernel will not load a module while its old copy
	 * is still going away (an unload racing this request: seen live, loop's removal and a
	 * mount's request for loop-control in the same 100 ms). Wait for it to be gone, then
	 * plan again; bounded, and whatever else answers EBUSY fails after it. */
	for (int i = 0; r == -EBUSY && o->op.n > 0 && i < SHIM_GOING_TRIES; i++) {
		if (!i)
			pml_warn("%s: an insert was refused as busy (a module going away?); "
				 "waiting for it", alias);
		usleep(SHIM_GOING_WAIT_US);
		r = pml_loader_load(env->ld, alias, env->load_flags, &o->op);
	}
	snprintf(miss, sizeof(miss), "miss: %s", alias);
	for (size_t i = 0; i < o->op.n; i++) {
		const struct pml_mod_op *m = &o->op.mods[i];
		struct pml_event_rec rec;
		char why_fail[128];

		if (m->done) {
			inserted++;
			pml_event_rec_init(&rec, PML_EV_LOAD);
			rec.cause = PML_CAUSE_MISS;
			rec.module = m->name;
			rec.alias = alias;
			rec.bytes = m->bytes;
			rec.ms = m->ms;
			rec.reason = miss;
			emit(env, &rec);
		} else if (m->err) {
			snprintf(why_fail, sizeof(why_fail), "insert: %s%s", strerror(-m->err),
				 m->soft ? " (softdep, ignored)" : "");
			pml_event_rec_init(&rec, PML_EV_FAIL);
			rec.cause = PML_CAUSE_MISS;
			rec.module = m->name;
			rec.alias = alias;
			rec.ms = m->ms;
			rec.err = m->err;
			rec.reason = why_fail;
			emit(env, &rec);
		}
	}
	o->err = r;
	if (r == -ENOENT && o->op.n == 0) {
		o->result = "no-module";
		snprintf(o->reason, sizeof(o->reason), "no module for this alias");
	} else if (r < 0) {
		o->result = "error";
		snprintf(o->reason, sizeof(o->reason), "load failed: %s", strerror(-r));
	} else if (inserted) {
		o->result = "loaded";
		snprintf(o->reason, sizeof(o->reason), "miss: %zu module%s inserted", inserted,
			 inserted == 1 ? "" : "s");
	} else {
		o->result = "present";
		snprintf(o->reason, sizeof(o->reason), "already loaded");
	}
	emit_need(env, alias, o);
	return r;
}

int pml_shim_apply_pins(struct pml_loader *ld, const struct pml_policy_file *policy)
{
	struct pml_loaded *mods;
	int n, added = 0;
	size_t cap;

	if (!policy)
		return 0;
	n = pml_loader_list_loaded(ld, NULL, 0);
	if (n <= 0)
		return n;
	cap = (size_t)n + 16; /* the set may grow between the two calls */
	mods = calloc(cap, sizeof(*mods));
	if (!mods)
		return -ENOMEM;
	n = pml_loader_list_loaded(ld, mods, cap);
	for (size_t i = 0; n > 0 && i < (size_t)n && i < cap; i++) {
		if (!pml_policy_file_pinned(policy, mods[i].name))
			continue;
		if (pml_loader_keep(ld, mods[i].name) < 0) {
			added = -ENOMEM;
			break;
		}
		added++;
	}
	free(mods);
	return added;
}

int pml_shim_remove(const struct pml_shim_env *env, const char *name,
		    struct pml_op_result *ret)
{
	struct pml_op_result local, *res = ret ? ret : &local;
	char names[4][64], reason[PML_SHIM_ALIAS_MAX + 32];
	const char *why;
	int r, n;

	memset(res, 0, sizeof(*res));
	r = pml_shim_check_alias(name, &why);
	if (r < 0)
		return r;
	r = pml_shim_apply_pins(env->ld, env->policy);
	if (r < 0)
		return r;
	n = pml_loader_resolve(env->ld, name, names, 4);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	snprintf(reason, sizeof(reason), "modprobe -r %s", name);
	r = 0;
	for (int i = 0; i < n && i < 4; i++) {
		struct pml_op_result one;
		int e = pml_loader_unload(env->ld, names[i], PML_UNLOAD_DEPS, &one);
		struct pml_event_rec rec;

		if (e < 0 && !r)
			r = e;
		if (e < 0 && one.n == 0) {
			char msg[128];

			say(msg, sizeof(msg), "%s: %s", reason, strerror(-e));
			pml_event_rec_init(&rec, PML_EV_FAIL);
			rec.cause = PML_CAUSE_REMOVE;
			rec.module = names[i];
			rec.err = e;
			rec.reason = msg;
			emit(env, &rec);
		}
		for (size_t k = 0; k < one.n; k++) {
			const struct pml_mod_op *m = &one.mods[k];

			if (res->n < PML_MOD_OP_MAX)
				res->mods[res->n++] = *m;
			pml_event_rec_init(&rec, m->done ? PML_EV_UNLOAD : PML_EV_FAIL);
			rec.cause = PML_CAUSE_REMOVE;
			rec.module = m->name;
			rec.bytes = m->done ? m->bytes : -1;
			rec.ms = m->ms;
			rec.err = m->err;
			rec.reason = reason;
			emit(env, &rec);
		}
		res->total_ms += one.total_ms;
	}
	return r;
}
