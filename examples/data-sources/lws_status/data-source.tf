data "lws_status" "eu" {
  region = "eu-south-1"
}

output "free_memory_gib" {
  value = { for h in data.lws_status.eu.hosts : "${h.region}/${h.az}" => floor((h.memory_total - h.memory_used) / 1073741824) }
}
