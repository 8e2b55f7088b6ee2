import {
  to = lws_docker_app.blog
  id = "eu-south-1/az1/105/blog"
}
