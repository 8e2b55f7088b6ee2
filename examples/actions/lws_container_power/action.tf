# terraform apply -invoke=action.lws_container_power.restart_web (Terraform 1.14 and later)
action "lws_container_power" "restart_web" {
  config {
    container_id = "eu-south-1/az1/105" # or lws_container.web.id
    operation    = "reboot"             # start, stop, shutdown or reboot
    timeout      = 30                   # seconds a clean stop may take
  }
}
