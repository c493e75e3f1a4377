// Unit tests of endpoint selection: explicit host, DNS SRV with direct TLS
// records first (XEP-0368), the "." target meaning "no service", and the
// fallback to the domain on port 5222.
package xmppclient

import (
	"context"
	"errors"
	"net"
	"reflect"
	"testing"
)

type fakeResolver map[string][]*net.SRV

func (f fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	key := "_" + service + "._" + proto + "." + name
	if r, ok := f[key]; ok {
		return key, r, nil
	}
	return "", nil, errors.New("no such host")
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		res  fakeResolver
		want []endpoint
	}{
		{"explicit STARTTLS", Config{Host: "h", Port: 0}, nil, []endpoint{{"h", 5222, false}}},
		{"explicit direct TLS", Config{Host: "h", DirectTLS: true}, nil, []endpoint{{"h", 5223, true}}},
		{"no SRV", Config{}, fakeResolver{}, []endpoint{{"example.org", 5222, false}}},
		{"SRV both kinds", Config{}, fakeResolver{
			"_xmpp-client._tcp.example.org":  {{Target: "c2s.example.org.", Port: 5222}},
			"_xmpps-client._tcp.example.org": {{Target: "tls.example.org.", Port: 443}, {Target: "tls2.example.org.", Port: 5223}},
		}, []endpoint{{"tls.example.org", 443, true}, {"tls2.example.org", 5223, true}, {"c2s.example.org", 5222, false}}},
		{"dot target means none", Config{}, fakeResolver{
			"_xmpps-client._tcp.example.org": {{Target: ".", Port: 0}},
			"_xmpp-client._tcp.example.org":  {{Target: "c2s.example.org.", Port: 5269}},
		}, []endpoint{{"c2s.example.org", 5269, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.JID = MustParseJID("me@example.org")
			cfg.resolver = tt.res
			if cfg.resolver == nil {
				cfg.resolver = fakeResolver{}
			}
			got := endpoints(context.Background(), &cfg)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("endpoints = %+v, want %+v", got, tt.want)
			}
		})
	}
}
