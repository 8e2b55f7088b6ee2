data "lws_hosts" "all" {}

output "unreachable_hosts" {
  value = [for h in data.lws_hosts.all.hosts : "${h.region}/${h.az}: ${h.error}" if !h.reachable]
}
