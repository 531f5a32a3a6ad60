/* What the LSTM's two sets of kernels share (lstm-layers.c: training's batched ones, 8
 * floats at a time; lstm-stream.c: pmld's streaming step, 4): the clone and inlining
 * attributes and one exp() body, so both compute the same bits. Internal to src/model/. */
#ifndef PML_MODEL_LSTM_VEC_H
#define PML_MODEL_LSTM_VEC_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PML_VEC __attribute__((target_clones("fma", "default")))
#else
#define PML_VEC
#endif
#define PML_INLINE static inline __attribute__((always_inline))
/* vectors are returned only from always-inlined helpers, so the ABI warning is moot */
#pragma GCC diagnostic ignored "-Wpsabi"

/* exp(x) for a vector x of floats VF (ints VI, with SPLAT, MIN and MAX of its width;
 * MIN(a, b) is a < b ? a : b lane by lane and MAX(a, b) a > b ? a : b, so b when either
 * is a NaN: SSE's minps and maxps): Cephes' expf (range reduction by ln 2 in two parts, a
 * degree-6 polynomial, the exponent built in the float's bits). Relative error ~2 ulp;
 * inputs are clamped to [-87, 88] so the exponent stays normal. One body for the 8-lane
 * kernels and the 4-lane (SSE-only) streaming step, so both compute the same bits. */
#define PML_VEXP(VF, VI, SPLAT, MIN, MAX, x0)                                                \
	({                                                                                   \
		const VF magic_ = SPLAT(12582912.0f); /* 1.5 * 2^23: rounds to integer */   \
		VF x_ = (x0), fx_, r_, p_;                                                   \
		VI n_;                                                                       \
                                                                                             \
		x_ = MIN(SPLAT(88.0f), x_); /* x > 88 ? 88 : x, a NaN kept */                \
		x_ = MAX(SPLAT(-87.0f), x_);                                                 \
		fx_ = x_ * 1.44269504088896341f;                                             \
		fx_ = (fx_ + magic_) - magic_;                                               \
		r_ = x_ - fx_ * 0.693359375f;                                                \
		r_ = r_ - fx_ * -2.12194440e-4f;                                             \
		p_ = SPLAT(1.9875691500e-4f);                                                \
		p_ = p_ * r_ + 1.3981999507e-3f;                                             \
		p_ = p_ * r_ + 8.3334519073e-3f;                                             \
		p_ = p_ * r_ + 4.1665795894e-2f;                                             \
		p_ = p_ * r_ + 1.6666665459e-1f;                                             \
		p_ = p_ * r_ + 5.0000001201e-1f;                                             \
		p_ = p_ * (r_ * r_) + r_ + 1.0f;                                             \
		n_ = __builtin_convertvector(fx_, VI);                                       \
		n_ = (n_ + 127) << 23;                                                       \
		p_ * (VF)n_;                                                                 \
	})

#endif
