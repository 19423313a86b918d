package mail

import "net/textproto"

func canonicalKey(k string) string { return textproto.CanonicalMIMEHeaderKey(k) }
