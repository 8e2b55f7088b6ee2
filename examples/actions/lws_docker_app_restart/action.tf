# terraform apply -invoke=action.lws_docker_app_restart.blog (Terraform 1.14 and later)
action "lws_docker_app_restart" "blog" {
  config {
    app_id = "eu-south-1/az1/105/blog" # or lws_docker_app.blog.id
  }
}
