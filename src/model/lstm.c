/* The LSTM model (lstm.h's struct pml_lstm): its parameters carved from one allocation,
 * creation (owned or borrowed weights) and seeded initialisation, the batched forward
 * over B sequences of T steps and its backward into the gradients, gradient clipping and
 * AdamW, and the state carried across training windows. The layers it stacks are in
 * lstm-layers.c (lstm-priv.h), the streaming step pmld runs in lstm-stream.c. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm.h"
#include "model/lstm-priv.h"

#include "model/lstm-vec.h"

size_t pml_lstm_param_count(const struct pml_lstm_config *cfg,
			    size_t sizes[PML_LSTM_NTENSORS])
{
	size_t s[PML_LSTM_NTENSORS] = {0}, total = 0;
	size_t V, E, H, M;

	if (cfg->vocab <= 0 || cfg->embed <= 0 || cfg->hidden <= 0 || cfg->modules <= 0 ||
	    cfg->layers < 1 || cfg->layers > PML_LSTM_MAX_LAYERS)
		return 0;
	/* keep every product far from overflow and every index inside an int */
	if (cfg->vocab > (1 << 24) || cfg->embed > 4096 || cfg->hidden > 4096 ||
	    cfg->modules > (1 << 16))
		return 0;
	V = cfg->vocab, E = cfg->embed, H = cfg->hidden, M = cfg->modules;
	s[PML_LSTM_T_EMB] = V * E;
	s[PML_LSTM_T_WIH0] = 4 * H * E;
	s[PML_LSTM_T_WHH0] = 4 * H * H;
	s[PML_LSTM_T_B0] = 4 * H;
	if (cfg->layers > 1) {
		s[PML_LSTM_T_WIH1] = 4 * H * H;
		s[PML_LSTM_T_WHH1] = 4 * H * H;
		s[PML_LSTM_T_B1] = 4 * H;
	}
	s[PML_LSTM_T_WOUT] = M * H;
	s[PML_LSTM_T_BOUT] = M;
	for (int i = 0; i < PML_LSTM_NTENSORS; i++)
		total += s[i];
	if (total > INT32_MAX)
		return 0;
	if (sizes)
		memcpy(sizes, s, sizeof(s));
	return total;
}

void pml_lstm_params_carve(const struct pml_lstm_config *cfg, float *mem,
			   struct pml_lstm_params *p)
{
	size_t s[PML_LSTM_NTENSORS];
	float *ptr[PML_LSTM_NTENSORS];

	pml_lstm_param_count(cfg, s);
	for (int i = 0; i < PML_LSTM_NTENSORS; i++) {
		ptr[i] = mem;
		mem += s[i];
	}
	memset(p, 0, sizeof(*p));
	p->emb = ptr[PML_LSTM_T_EMB];
	p->wih[0] = ptr[PML_LSTM_T_WIH0];
	p->whh[0] = ptr[PML_LSTM_T_WHH0];
	p->b[0] = ptr[PML_LSTM_T_B0];
	if (cfg->layers > 1) {
		p->wih[1] = ptr[PML_LSTM_T_WIH1];
		p->whh[1] = ptr[PML_LSTM_T_WHH1];
		p->b[1] = ptr[PML_LSTM_T_B1];
	}
	p->wout = ptr[PML_LSTM_T_WOUT];
	p->bout = ptr[PML_LSTM_T_BOUT];
}

static struct pml_lstm *lstm_alloc(const struct pml_lstm_config *cfg)
{
	struct pml_lstm *m;
	size_t n = pml_lstm_param_count(cfg, NULL);

	if (!n)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->threads = 1;
	m->nparams = pml_lstm_param_count(cfg, m->tensor_size);
	return m;
}

struct pml_lstm *pml_lstm_new(const struct pml_lstm_config *cfg)
{
	struct pml_lstm *m = lstm_alloc(cfg);

	if (!m)
		return NULL;
	m->params_mem = calloc(m->nparams, sizeof(float));
	if (!m->params_mem) {
		free(m);
		return NULL;
	}
	pml_lstm_params_carve(cfg, m->params_mem, &m->params);
	return m;
}

struct pml_lstm *pml_lstm_new_borrowed(const struct pml_lstm_config *cfg,
				       const float *weights)
{
	struct pml_lstm *m = lstm_alloc(cfg);

	if (!m)
		return NULL;
	/* the const is restored by refusing every write path (training) on borrowed models */
	m->params_mem = (float *)weights;
	m->params_borrowed = true;
	pml_lstm_params_carve(cfg, m->params_mem, &m->params);
	return m;
}

void pml_lstm_free(struct pml_lstm *m)
{
	if (!m)
		return;
	if (!m->params_borrowed)
		free(m->params_mem);
	free(m->grads_mem);
	free(m->m_mem);
	free(m->v_mem);
	free(m->acts_mem);
	free(m->dacts_mem);
	free(m->h0);
	free(m->scratch);
	free(m);
}

void pml_lstm_init_params(struct pml_lstm *m, uint64_t seed)
{
	const struct pml_lstm_config *cfg = &m->cfg;
	struct pml_lstm_params *p = &m->params;
	const int H = cfg->hidden;
	float k = 1.0f / sqrtf((float)H);
	struct pml_rng rng;

	if (m->params_borrowed)
		return;
	pml_rng_seed(&rng, seed);
	/* one fixed order over the tensors, so a seed names one model */
	for (size_t i = 0; i < m->tensor_size[PML_LSTM_T_EMB]; i++)
		p->emb[i] = 0.1f * pml_rng_normal(&rng);
	for (int l = 0; l < cfg->layers; l++) {
		int C = l ? H : cfg->embed;

		for (size_t i = 0; i < (size_t)4 * H * C; i++)
			p->wih[l][i] = k * (2.0f * pml_rng_uniform(&rng) - 1.0f);
		for (size_t i = 0; i < (size_t)4 * H * H; i++)
			p->whh[l][i] = k * (2.0f * pml_rng_uniform(&rng) - 1.0f);
		for (int i = 0; i < 4 * H; i++)
			p->b[l][i] = (i >= H && i < 2 * H) ? 1.0f : 0.0f;
	}
	for (size_t i = 0; i < m->tensor_size[PML_LSTM_T_WOUT]; i++)
		p->wout[i] = k * (2.0f * pml_rng_uniform(&rng) - 1.0f);
	for (int i = 0; i < cfg->modules; i++)
		p->bout[i] = -2.0f;
}

/* Size the activation buffers for B x T (kept when the size does not change). */
static int lstm_ensure_acts(struct pml_lstm *m, int B, int T)
{
	const struct pml_lstm_config *cfg = &m->cfg;
	const size_t N = (size_t)B * T, E = cfg->embed, H = cfg->hidden, M = cfg->modules;
	const int L = cfg->layers;
	size_t acts, dacts, scratch;
	float *a, *d, *st, *sc;

	if (m->acts_mem && m->B == B && m->T == T)
		return 0;
	if (N > INT32_MAX / (4 * H + M + E))
		return -EINVAL;
	acts = N * E + L * N * (3 * H + 4 * H) + 2 * N * M;
	dacts = N * E + L * N * H + N * 4 * H + N * M;
	/* transposes: weights for a forward, dgates^T and hprev for a layer's backward,
	 * dlogits^T for the head's */
	scratch = 4 * H * (E > H ? E : H);
	if (M * H > scratch)
		scratch = M * H;
	if (N * 5 * H > scratch)
		scratch = N * 5 * H;
	if (N * M > scratch)
		scratch = N * M;
	a = malloc(acts * sizeof(float));
	d = malloc(dacts * sizeof(float));
	st = calloc(2 * (size_t)L * B * H, sizeof(float));
	sc = malloc(scratch * sizeof(float));
	if (!a || !d || !st || !sc) {
		free(a);
		free(d);
		free(st);
		free(sc);
		return -ENOMEM;
	}
	free(m->acts_mem);
	free(m->dacts_mem);
	free(m->h0);
	free(m->scratch);
	m->scratch = sc;
	m->acts_mem = a;
	m->dacts_mem = d;
	m->h0 = st;
	m->c0 = st + (size_t)L * B * H;
	m->acts_size = acts;
	m->B = B;
	m->T = T;
	m->x = a, a += N * E;
	for (int l = 0; l < L; l++) {
		m->h[l] = a, a += N * H;
		m->c[l] = a, a += N * H;
		m->tc[l] = a, a += N * H;
		m->gates[l] = a, a += N * 4 * H;
	}
	m->logits = a, a += N * M;
	m->probs = a;
	m->dx = d, d += N * E;
	for (int l = 0; l < L; l++)
		m->dh[l] = d, d += N * H;
	m->dgates = d, d += N * 4 * H;
	m->dlogits = d;
	return 0;
}

int pml_lstm_forward(struct pml_lstm *m, const int32_t *tokens, const float *targets,
		     const float *mask, int B, int T, double *ret_loss)
{
	const struct pml_lstm_config *cfg = &m->cfg;
	const int E = cfg->embed, H = cfg->hidden, M = cfg->modules, L = cfg->layers;
	const size_t N = (size_t)B * T;
	int32_t *tok;
	double loss = 0.0;
	int r;

	if (B <= 0 || T <= 0)
		return -EINVAL;
	r = lstm_ensure_acts(m, B, T);
	if (r < 0)
		return r;
	/* out-of-range tokens read as OOV: clamp into a copy kept for backward */
	tok = malloc(N * sizeof(*tok));
	if (!tok)
		return -ENOMEM;
	for (size_t n = 0; n < N; n++)
		tok[n] = (tokens[n] >= 0 && tokens[n] < cfg->vocab) ? tokens[n] : 0;
	pml_embed_forward(m->x, tok, m->params.emb, (int)N, E);
	free(tok);
	for (int l = 0; l < L; l++) {
		const float *inp = l ? m->h[l - 1] : m->x;

		lstm_layer_forward_mt(m->threads, m->scratch, m->h[l], m->c[l], m->tc[l],
				      m->gates[l], inp, m->h0 + (size_t)l * B * H,
				      m->c0 + (size_t)l * B * H, m->params.wih[l],
				      m->params.whh[l], m->params.b[l], B, T, l ? H : E, H);
	}
	lstm_transpose(m->scratch, m->params.wout, M, H);
	lstm_matmul_forward_t(m->threads, m->logits, m->h[L - 1], m->scratch,
			      m->params.bout, (int)N, H, M);
	loss = pml_bce_forward(m->probs, m->logits, targets, mask, (int)N, M);
	m->tokens = tokens;
	m->targets = targets;
	m->mask = mask;
	m->mask_sum = 0.0;
	if (targets) {
		if (mask)
			for (size_t i = 0; i < N * M; i++)
				m->mask_sum += mask[i];
		else
			m->mask_sum = (double)N * M;
		loss = m->mask_sum > 0 ? loss / m->mask_sum : 0.0;
	}
	if (ret_loss)
		*ret_loss = loss;
	return 0;
}

void pml_lstm_set_threads(struct pml_lstm *m, int n)
{
	m->threads = n > 0 ? n : 1;
}

static int lstm_ensure_grads(struct pml_lstm *m)
{
	if (m->params_borrowed)
		return -EPERM;
	if (m->grads_mem)
		return 0;
	m->grads_mem = calloc(m->nparams, sizeof(float));
	if (!m->grads_mem)
		return -ENOMEM;
	pml_lstm_params_carve(&m->cfg, m->grads_mem, &m->grads);
	return 0;
}

void pml_lstm_zero_grad(struct pml_lstm *m)
{
	if (m->grads_mem)
		memset(m->grads_mem, 0, m->nparams * sizeof(float));
}

int pml_lstm_backward(struct pml_lstm *m)
{
	const struct pml_lstm_config *cfg = &m->cfg;
	const int E = cfg->embed, H = cfg->hidden, M = cfg->modules, L = cfg->layers;
	const int B = m->B, T = m->T, N = B * T;
	struct pml_lstm_params *g = &m->grads;
	int32_t *tok;
	int r;

	if (!m->acts_mem || !m->targets || !m->tokens)
		return -EINVAL;
	r = lstm_ensure_grads(m);
	if (r < 0)
		return r;
	tok = malloc((size_t)N * sizeof(*tok));
	if (!tok)
		return -ENOMEM;
	for (int n = 0; n < N; n++)
		tok[n] = (m->tokens[n] >= 0 && m->tokens[n] < cfg->vocab) ? m->tokens[n] : 0;
	memset(m->dacts_mem, 0,
	       ((size_t)N * E + (size_t)L * N * H + (size_t)N * 4 * H + (size_t)N * M) *
		       sizeof(float));
	if (m->mask_sum > 0)
		pml_bce_backward(m->dlogits, m->probs, m->targets, m->mask, N, M,
				 (float)(1.0 / m->mask_sum));
	lstm_transpose(m->scratch, m->dlogits, N, M);
	lstm_matmul_backward_t(m->threads, m->dh[L - 1], g->wout, g->bout, m->dlogits,
			       m->scratch, m->h[L - 1], m->params.wout, N, H, M);
	for (int l = L - 1; l >= 0; l--) {
		const float *inp = l ? m->h[l - 1] : m->x;
		float *dinp = l ? m->dh[l - 1] : m->dx;

		lstm_layer_backward_mt(m->threads, m->scratch, dinp, g->wih[l], g->whh[l], g->b[l],
				       NULL, NULL, m->dgates, m->dh[l], inp,
				       m->h0 + (size_t)l * B * H, m->c0 + (size_t)l * B * H,
				       m->h[l], m->c[l], m->tc[l], m->gates[l], m->params.wih[l],
				       m->params.whh[l], B, T, l ? H : E, H);
	}
	pml_embed_backward(g->emb, m->dx, tok, N, E);
	free(tok);
	return 0;
}

double pml_lstm_clip_grad(struct pml_lstm *m, double max_norm)
{
	double sum = 0.0, norm;

	if (!m->grads_mem)
		return 0.0;
	for (size_t i = 0; i < m->nparams; i++)
		sum += (double)m->grads_mem[i] * m->grads_mem[i];
	norm = sqrt(sum);
	if (max_norm > 0 && norm > max_norm) {
		float s = (float)(max_norm / norm);

		for (size_t i = 0; i < m->nparams; i++)
			m->grads_mem[i] *= s;
	}
	return norm;
}

PML_VEC int pml_lstm_adam_update(struct pml_lstm *m, float lr, float beta1, float beta2,
				 float eps, float weight_decay)
{
	float c1, c2;

	if (m->params_borrowed)
		return -EPERM;
	if (!m->grads_mem)
		return 0;
	if (!m->m_mem) {
		m->m_mem = calloc(m->nparams, sizeof(float));
		m->v_mem = calloc(m->nparams, sizeof(float));
		if (!m->m_mem || !m->v_mem) {
			free(m->m_mem);
			free(m->v_mem);
			m->m_mem = m->v_mem = NULL;
			return -ENOMEM;
		}
	}
	m->adam_t++;
	c1 = 1.0f - powf(beta1, (float)m->adam_t);
	c2 = 1.0f - powf(beta2, (float)m->adam_t);
	for (size_t i = 0; i < m->nparams; i++) {
		float g = m->grads_mem[i];
		float mi = beta1 * m->m_mem[i] + (1.0f - beta1) * g;
		float vi = beta2 * m->v_mem[i] + (1.0f - beta2) * g * g;
		float mhat = mi / c1, vhat = vi / c2;

		m->m_mem[i] = mi;
		m->v_mem[i] = vi;
		m->params_mem[i] -= lr * (mhat / (sqrtf(vhat) + eps) +
					  weight_decay * m->params_mem[i]);
	}
	return 0;
}

void pml_lstm_carry_state(struct pml_lstm *m)
{
	const int B = m->B, T = m->T, H = m->cfg.hidden;

	if (!m->acts_mem)
		return;
	for (int l = 0; l < m->cfg.layers; l++)
		for (int b = 0; b < B; b++) {
			size_t last = ((size_t)b * T + T - 1) * H;

			memcpy(m->h0 + ((size_t)l * B + b) * H, m->h[l] + last, H * sizeof(float));
			memcpy(m->c0 + ((size_t)l * B + b) * H, m->c[l] + last, H * sizeof(float));
		}
}

void pml_lstm_reset_state(struct pml_lstm *m)
{
	if (m->h0)
		memset(m->h0, 0, 2 * (size_t)m->cfg.layers * m->B * m->cfg.hidden * sizeof(float));
}

void pml_lstm_reset_row(struct pml_lstm *m, int b)
{
	const size_t H = m->cfg.hidden;

	if (!m->h0 || b < 0 || b >= m->B)
		return;
	for (int l = 0; l < m->cfg.layers; l++) {
		memset(m->h0 + ((size_t)l * m->B + b) * H, 0, H * sizeof(float));
		memset(m->c0 + ((size_t)l * m->B + b) * H, 0, H * sizeof(float));
	}
}
