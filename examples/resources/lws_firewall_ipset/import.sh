# <region>/<name>
terraform import lws_firewall_ipset.monitoring eu-south-1/monitoring
