/* The naming rules (name-rules.h): the words of a command, and the aliases they name.
 * Moved out of the lstm policy unchanged, so that they can be measured alone (the names
 * policy) and beside the model (lstm). */
#include <stdio.h>
#include <string.h>

#include "policy/name-rules.h"

void pml_name_rules_init(struct pml_name_rules *r, pml_name_resolve_fn resolve,
			 void *resolve_data, pml_name_fn on_name, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->resolve = resolve;
	r->resolve_data = resolve_data;
	r->on_name = on_name;
	r->ctx = ctx;
}

/* Ask the index for alias; tell each module it resolves to (up to 4). */
static void name_alias(struct pml_name_rules *r, const char *alias, const char *words)
{
	char names[4][64];
	int n = r->resolve(r->resolve_data, alias, names, 4);

	for (int i = 0; i < n && i < 4; i++)
		r->on_name(r->ctx, names[i], words);
}

/* Programs that speak to one module, by name: the tool of a feature named after its
 * module (bridge, nbd-client, zramctl, tipc) and a few that are not (nft speaks to
 * nf_tables, cryptsetup to dm-crypt, losetup to loop, ipvsadm to ip_vs). Only these: a
 * program's name alone names no module, since many are also a module's name for something
 * else (`ping` is an industrial-I/O sensor driver, `lp` the parallel printer's). */
static const char *const prog_modules[][2] = {
	{"bridge", "bridge"},	{"nbd-client", "nbd"},	  {"zramctl", "zram"},
	{"tipc", "tipc"},	{"nft", "nfnetlink-subsys-10"}, {"cryptsetup", "dm_crypt"},
	{"losetup", "loop"},	{"ipvsadm", "ip_vs"},
};

void pml_name_rules_token(struct pml_name_rules *r, const char *tok)
{
	char alias[96], words[40];
	const char *w;

	if (!strncmp(tok, "exec:", 5)) {
		const char *prog = tok + 5, *dot = strchr(prog, '.');

		snprintf(r->prog, sizeof(r->prog), "%s", prog);
		memcpy(r->before2, r->before, sizeof(r->before));
		memcpy(r->before, r->cmd, sizeof(r->cmd));
		snprintf(r->cmd, sizeof(r->cmd), "%s", prog);
		r->prev[0] = '\0';
		for (size_t i = 0; i < sizeof(prog_modules) / sizeof(*prog_modules); i++)
			if (!strcmp(prog, prog_modules[i][0]))
				name_alias(r, prog_modules[i][1], prog);
		/* mkfs.xfs, mount.nfs, fsck.vfat */
		if (dot && dot[1] && (!strncmp(prog, "mkfs.", 5) || !strncmp(prog, "mount.", 6) ||
				      !strncmp(prog, "fsck.", 5))) {
			snprintf(alias, sizeof(alias), "fs-%s", dot + 1);
			name_alias(r, alias, prog);
		}
		return;
	}
	if (!strncmp(tok, "argp:", 5)) {
		r->prev[0] = '\0'; /* a path: a word of the same command */
		return;
	}
	if (strncmp(tok, "arg:", 4)) {
		r->prog[0] = r->prev[0] = '\0';
		return;
	}
	w = tok + 4;
	if (*w && *w != '-' && *w != '#') {
		if (!strcmp(r->prev, "type")) {
			snprintf(alias, sizeof(alias), "rtnl-link-%s", w);
			snprintf(words, sizeof(words), "type %s", w);
			name_alias(r, alias, words);
		} else if (!strcmp(r->prev, "-t") && (!strcmp(r->prog, "mount") ||
						       !strncmp(r->prog, "mkfs", 4))) {
			snprintf(alias, sizeof(alias), "fs-%s", w);
			snprintf(words, sizeof(words), "-t %s", w);
			name_alias(r, alias, words);
		} else if (!strcmp(r->prog, "nft")) {
			/* expressions (ct, limit, log, reject ...) and the nat chain type */
			snprintf(alias, sizeof(alias), "nft-expr-%s",
				 !strcmp(w, "masquerade") ? "masq" : w);
			snprintf(words, sizeof(words), "nft %s", w);
			name_alias(r, alias, words);
			if (!strcmp(w, "nat"))
				name_alias(r, "nft-chain-2-nat", words);
		} else if (!strncmp(r->prog, "iptables", 8) &&
			   (!strcmp(r->prev, "-j") || !strcmp(r->prev, "-m"))) {
			snprintf(alias, sizeof(alias), "xt_%s", w);
			snprintf(words, sizeof(words), "%.4s %.32s", r->prev, w);
			name_alias(r, alias, words);
		} else if (!strcmp(r->prog, "ipvsadm") && !strcmp(r->prev, "-s")) {
			snprintf(alias, sizeof(alias), "ip_vs_%s", w);
			snprintf(words, sizeof(words), "-s %s", w);
			name_alias(r, alias, words);
		} else if (!strcmp(r->prog, "socat")) {
			/* addresses: SCTP-LISTEN, VSOCK-CONNECT, TUN */
			char low[32];
			size_t n = strcspn(w, "-");

			for (size_t i = 0; i < n && i < sizeof(low) - 1; i++)
				low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
			low[n < sizeof(low) - 1 ? n : sizeof(low) - 1] = '\0';
			snprintf(words, sizeof(words), "socat %s", w);
			if (strlen(low) >= 3)
				name_alias(r, low, words);
		} else if (!strcmp(r->prog, "mount") && !strcmp(r->prev, "-o") &&
			   strstr(w, "loop")) {
			name_alias(r, "loop", "mount -o loop");
		} else if (!strcmp(r->prog, "modprobe")) {
			snprintf(words, sizeof(words), "modprobe %s", w);
			name_alias(r, w, words);
		} else if (!strcmp(r->prog, "tc")) {
			static const char *const kinds[] = {"sch_", "cls_", "act_"};

			for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
				snprintf(alias, sizeof(alias), "%s%s", kinds[i], w);
				snprintf(words, sizeof(words), "tc %s", w);
				name_alias(r, alias, words);
			}
		}
	}
	snprintf(r->prev, sizeof(r->prev), "%s", w);
}

void pml_name_rules_record(struct pml_name_rules *r, const struct pml_feat_tokens *t)
{
	for (int i = 0; i < t->n; i++)
		pml_name_rules_token(r, t->tok[i]);
}

static int prior_emit(void *ctx, const char *tok)
{
	pml_name_rules_token(ctx, tok);
	return 0;
}

void pml_name_rules_prior(struct pml_name_rules *r, const char *command, const char *script)
{
	r->cmd[0] = r->before[0] = r->before2[0] = '\0';
	pml_features_prior(command, script, prior_emit, r);
	r->prog[0] = r->prev[0] = r->cmd[0] = r->before[0] = r->before2[0] = '\0';
}
