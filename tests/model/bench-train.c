/* Training throughput of the C LSTM on a synthetic announce-then-need task, written so
 * that tests/model/train_ref.py can train torch on exactly the same data from exactly the
 * same initial weights (tests/model/train-vs-torch.sh runs both and prints the ratio).
 *
 * Task: tokens >= V - M announce module (token - (V - M)), which is needed LAG = 3 events
 * later (label y[t][m] = 1 iff tok[t-3] == V - M + m); the rest are noise. B streams,
 * windows of T steps with the state carried (truncated BPTT), Adam, clipping at 1.0.
 *
 *   bench-train [-V n] [-E n] [-H n] [-L n] [-M n] [-B n] [-T n] [-S steps] [-t threads]
 *               [-o DATA] [-c CURVE]
 * DATA (written before training): u32 V E H L M B T S, i32 tokens [S/W][B][W*T] where
 * W = WINDOWS per stream, then f32 initial weights (torch's layout; see lstm.h).
 * CURVE: "step loss" per line. Prints tokens per second of wall and of CPU time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/lstm.h"

enum { LAG = 3, WINDOWS = 8 };

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct pml_lstm_config cfg = {.vocab = 512, .embed = 32, .hidden = 64, .layers = 1,
				      .modules = 128};
	int B = 16, T = 32, S = 200, c, threads = 1;
	const char *data_path = NULL, *curve_path = NULL;
	int32_t *stream, *tok;
	float *ys, *y;
	struct pml_lstm *m;
	struct pml_rng rng;
	FILE *curve = NULL;
	double t0, c0, el, cpu, loss = 0;
	int len, noise;

	while ((c = getopt(argc, argv, "V:E:H:L:M:B:T:S:t:o:c:")) != -1) {
		switch (c) {
		case 'V': cfg.vocab = atoi(optarg); break;
		case 'E': cfg.embed = atoi(optarg); break;
		case 'H': cfg.hidden = atoi(optarg); break;
		case 'L': cfg.layers = atoi(optarg); break;
		case 'M': cfg.modules = atoi(optarg); break;
		case 'B': B = atoi(optarg); break;
		case 'T': T = atoi(optarg); break;
		case 'S': S = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'o': data_path = optarg; break;
		case 'c': curve_path = optarg; break;
		default:
			fprintf(stderr, "usage: see the comment at the top of bench-train.c\n");
			return 2;
		}
	}
	noise = cfg.vocab - cfg.modules;
	if (noise < 1 || S % WINDOWS) {
		fprintf(stderr, "bench-train: need V > M and S a multiple of %d\n", WINDOWS);
		return 2;
	}
	m = pml_lstm_new(&cfg);
	if (!m)
		return 1;
	pml_lstm_set_threads(m, threads);
	pml_lstm_init_params(m, 1);
	len = T * WINDOWS;
	/* every stream of the run up front, so the data file holds exactly what trains */
	stream = malloc(sizeof(int32_t) * (size_t)(S / WINDOWS) * B * len);
	tok = malloc(sizeof(int32_t) * B * T);
	ys = NULL;
	y = malloc(sizeof(float) * (size_t)B * T * cfg.modules);
	pml_rng_seed(&rng, 2);
	for (size_t i = 0; i < (size_t)(S / WINDOWS) * B * len; i++)
		stream[i] = pml_rng_uniform(&rng) < 0.2f
				    ? noise + (int32_t)(pml_rng_next(&rng) % cfg.modules)
				    : (int32_t)(pml_rng_next(&rng) % noise);
	if (data_path) {
		FILE *f = fopen(data_path, "wb");
		uint32_t hdr[8] = {cfg.vocab, cfg.embed, cfg.hidden, cfg.layers, cfg.modules, B, T, S};

		if (!f || fwrite(hdr, sizeof(hdr), 1, f) != 1 ||
		    fwrite(stream, sizeof(int32_t), (size_t)(S / WINDOWS) * B * len, f) !=
			    (size_t)(S / WINDOWS) * B * len ||
		    fwrite(m->params_mem, sizeof(float), m->nparams, f) != m->nparams ||
		    fclose(f)) {
			perror(data_path);
			return 1;
		}
	}
	if (curve_path && !(curve = fopen(curve_path, "w"))) {
		perror(curve_path);
		return 1;
	}
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (int step = 0; step < S; step++) {
		int w = step % WINDOWS;
		const int32_t *sb = stream + (size_t)(step / WINDOWS) * B * len;

		if (w == 0)
			pml_lstm_reset_state(m);
		for (int b = 0; b < B; b++)
			memcpy(tok + b * T, sb + (size_t)b * len + w * T, sizeof(int32_t) * T);
		memset(y, 0, sizeof(float) * (size_t)B * T * cfg.modules);
		for (int b = 0; b < B; b++)
			for (int t = 0; t < T; t++) {
				int pos = w * T + t;
				int32_t a = pos >= LAG ? sb[(size_t)b * len + pos - LAG] : 0;

				if (a >= noise)
					y[((size_t)b * T + t) * cfg.modules + (a - noise)] = 1.0f;
			}
		if (pml_lstm_forward(m, tok, y, NULL, B, T, &loss) < 0)
			return 1;
		pml_lstm_zero_grad(m);
		pml_lstm_backward(m);
		pml_lstm_clip_grad(m, 1.0);
		pml_lstm_adam_update(m, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f);
		pml_lstm_carry_state(m);
		if (curve)
			fprintf(curve, "%d %.6f\n", step, loss);
	}
	el = now(CLOCK_MONOTONIC) - t0;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	/* CPU time too: on a shared machine the wall clock counts other people's work */
	printf("c threads=%d: %d steps of %dx%d tokens: wall %.2f s = %.0f tokens/s, cpu %.2f s "
	       "= %.0f tokens/cpu-s, final loss %.4f\n",
	       threads, S, B, T, el, (double)S * B * T / el, cpu, (double)S * B * T / cpu, loss);
	if (curve)
		fclose(curve);
	free(ys);
	free(stream);
	free(tok);
	free(y);
	pml_lstm_free(m);
	return 0;
}
