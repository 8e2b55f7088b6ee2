resource "lws_firewall_ipset" "monitoring" {
  name    = "monitoring"
  comment = "Prometheus scrapers"

  entry {
    cidr    = "10.30.0.0/24"
    comment = "scrape network"
  }

  entry {
    cidr    = "10.30.0.13"
    nomatch = true
    comment = "decommissioned scraper"
  }
}

resource "lws_security_group" "metrics" {
  name = "metrics"

  rule {
    direction = "in"
    action    = "ACCEPT"
    protocol  = "tcp"
    dport     = "9100"
    source    = "+${lws_firewall_ipset.monitoring.name}"
  }
}
