/* libFuzzer target for the model file loader (src/model/model-file.c): any byte string
 * must be refused with a negative errno or accepted as a model whose strings and weights
 * can all be read, and whose LSTM runs a streaming step, without a memory error.
 * Build and run with tests/model/fuzz-model-file.sh (clang, -fsanitize=fuzzer,address);
 * seed: tests/fixtures/model/tiny-lstm.pml. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *releases[] = {"6.1.0-56-amd64", "6.1.0-47-amd64", "6.6.0-1-amd64",
					 NULL};
	struct pml_model_file *mf = NULL;
	struct pml_lstm *m = NULL;
	/* the loader wants a 4-byte aligned buffer, as mmap gives */
	void *buf = malloc(size ? size : 1);
	volatile size_t sink = 0;
	int which = size ? data[size / 2] & 3 : 0;

	memcpy(buf, data, size);
	/* the checksum would stop almost every mutation at the door: for half the inputs,
	 * make it right so the header and string checks behind it get explored too */
	if (size >= 16 && (data[0] ^ data[size - 1]) & 1) {
		uint32_t crc = pml_crc32(0, (char *)buf + 16, size - 16);

		memcpy((char *)buf + 12, &crc, 4);
	}
	if (pml_model_file_parse(buf, size, "fuzz", releases[which], which & 1, &mf) == 0) {
		for (uint32_t i = 0; i < mf->n_vocab; i++)
			sink += strlen(mf->vocab[i]);
		for (uint32_t i = 0; i < mf->n_modules; i++)
			sink += strlen(mf->modules[i]);
		for (uint64_t i = 0; i < mf->n_weights; i++)
			sink += mf->weights[i] != 0.0f;
		/* run small models only: the fuzzer should find bugs, not allocate gigabytes */
		if (mf->kind == PML_MODEL_LSTM && mf->n_weights < (1u << 20) &&
		    pml_lstm_from_file(mf, &m) == 0) {
			struct pml_lstm_stream *s = pml_lstm_stream_new(m, false);
			float *probs = malloc(sizeof(float) * m->cfg.modules);

			if (s && probs) {
				pml_lstm_stream_step(s, 1, probs);
				pml_lstm_stream_step(s, -5, probs);
			}
			free(probs);
			pml_lstm_stream_free(s);
			pml_lstm_free(m);
		}
		pml_model_file_free(mf);
	}
	free(buf);
	return 0;
}
