# By id, by VMID, or by hostname (exactly one).
data "lws_container" "db" {
  hostname = "db-1"
}

output "db_address" {
  value = data.lws_container.db.ipv4_address
}
