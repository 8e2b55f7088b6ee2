data "lws_clusters" "eu" {
  region = "eu-south-1"
}

output "quorate" {
  value = { for c in data.lws_clusters.eu.clusters : c.name => c.quorate }
}
