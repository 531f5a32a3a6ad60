/* What the LSTM model (lstm.c) takes from its layers (lstm-layers.c) beyond lstm.h: the
 * matmul and the LSTM layer on transposed operands, spread over threads (pthreads over
 * batch rows and weight rows: the results do not depend on the count), with the
 * caller's scratch instead of an allocation per call. Internal to src/model/. */
#ifndef PML_MODEL_LSTM_PRIV_H
#define PML_MODEL_LSTM_PRIV_H

/* dst [cols, rows] = src [rows, cols]^T, in 16 x 16 tiles so both sides stay in cache */
void lstm_transpose(float *dst, const float *src, int rows, int cols);

/* out [N, OC] = inp [N, C] . w^T + bias, with wt = w^T [C, OC] given. */
void lstm_matmul_forward_t(int threads, float *out, const float *inp, const float *wt,
			   const float *bias, int N, int C, int OC);
/* The backward of a matmul, given doutT = dout^T [OC, N] (the caller's scratch). */
void lstm_matmul_backward_t(int threads, float *dinp, float *dw, float *dbias,
			    const float *dout, const float *doutT, const float *inp,
			    const float *w, int N, int C, int OC);

/* pml_lstm_layer_forward() and _backward() (lstm.h) over threads.
 * forward's scratch: at least 4H * max(C, H) floats */
void lstm_layer_forward_mt(int threads, float *scratch, float *h, float *c, float *tc,
			   float *gates, const float *x, const float *h0, const float *c0,
			   const float *wih, const float *whh, const float *b, int B,
			   int T, int C, int H);
/* backward's scratch: at least B*T*4H + B*T*H floats */
void lstm_layer_backward_mt(int threads, float *scratch, float *dx, float *dwih,
			    float *dwhh, float *db, float *dh0, float *dc0, float *dgates,
			    const float *dh, const float *x, const float *h0,
			    const float *c0, const float *h, const float *c,
			    const float *tc, const float *gates, const float *wih,
			    const float *whh, int B, int T, int C, int H);

#endif
