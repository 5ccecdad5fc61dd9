package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// Sign is the X-Shopify-Hmac-Sha256 of body: base64 of its HMAC-SHA256
// under the app's secret.
func Sign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// Verify reports whether header is the signature of the raw body, in
// constant time. An empty secret verifies nothing.
func Verify(secret string, body []byte, header string) bool {
	if secret == "" || header == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, body))
}
