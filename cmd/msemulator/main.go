// Command msemulator serves the Microsoft endpoint emulator
// (internal/msemulator) on its own: the Entra token endpoint, Graph and
// Partner Center over HTTPS on 127.0.0.1, for a generated portfolio.
// `make run` starts one by itself; this is for trying the connector, or
// another tool, against it:
//
//	go run ./cmd/msemulator -customers 50 -cert /tmp/msemulator.pem
//	SSL_CERT_FILE=/tmp/msemulator.pem LOGIN_BASE_URL=https://127.0.0.1:PORT …
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/msemulator"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback; port 0 picks a free one)")
	customers := flag.Int("customers", 40, "customers of the portfolio")
	users := flag.Int("users", 100, "mean users per customer")
	seed := flag.Int64("seed", 1, "portfolio seed (the same as cmd/portfolio-gen's)")
	partner := flag.String("partner-tenant", "0fa30596-9353-43b7-9a08-58f1e7624da0", "the partner's own tenant id (Partner Center's tokens)")
	clientID := flag.String("client-id", "00000000-0000-4000-8000-00000000c011", "the app's client id the token endpoint accepts")
	secret := flag.String("client-secret", "local-emulator-secret", "the client secret the token endpoint accepts")
	pageSize := flag.Int("page-size", 20, "page size of directory/subscriptions and Partner Center's customers")
	certPath := flag.String("cert", "", "write the self-signed certificate here (for SSL_CERT_FILE)")
	unconsented := flag.String("unconsented", "", "a customer tenant id whose token endpoint refuses consent (AADSTS65001)")
	flag.Parse()

	cfg := portfoliogen.Config{Seed: *seed, Customers: *customers, Users: *users, ReportDate: license.DateOf(time.Now()), PartnerTenantID: *partner}
	s, err := msemulator.Start(msemulator.Config{Portfolio: cfg, ClientID: *clientID, ClientSecret: *secret, PageSize: *pageSize}, *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "msemulator:", err)
		os.Exit(1)
	}
	defer s.Close()
	if *unconsented != "" {
		s.Unconsent(*unconsented)
	}
	if *certPath != "" {
		if err := os.WriteFile(*certPath, s.CertPEM, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "msemulator:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("Microsoft emulator on %s (%d customers, partner tenant %s)\n", s.URL, *customers, s.PartnerTenantID())
	fmt.Printf("  LOGIN_BASE_URL=%[1]s GRAPH_BASE_URL=%[1]s PARTNER_CENTER_BASE_URL=%[1]s\n", s.URL)
	fmt.Printf("  MS_CLIENT_ID=%s MS_CLIENT_SECRET=%s PARTNER_TENANT_ID=%s\n", *clientID, *secret, s.PartnerTenantID())
	if *certPath != "" {
		fmt.Printf("  SSL_CERT_FILE=%s\n", *certPath)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
