#!/bin/sh
# pml-family: protocols
# pml-summary: a server offloading TLS record encryption to the kernel (kTLS via TCP_ULP):
#   random cipher suite and transfer size over loopback, received bytes checked
# pml-expect: tls
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick cipher aes-gcm-128 aes-gcm-128 aes-gcm-256 aes-ccm-128 chacha20-poly1305
pml_range kb 16 1024
pml_param cipher "$cipher"; pml_param kb "$kb"
case $cipher in aes-gcm*) pml_expect gcm ;; aes-ccm*) pml_expect ccm ;;
chacha*) pml_expect chacha20poly1305 ;; esac
"$(pml_tool ktls)" "$cipher" $((kb * 1024))
