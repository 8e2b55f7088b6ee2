resource "lws_container" "apps" {
  az       = "az1"
  hostname = "apps"
  template = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
  size     = "medium"
  features = { nesting = true, keyctl = true } # Docker in an unprivileged container
}

# A compose project; env values land in .env (on standard input) for ${VAR} substitution.
resource "lws_docker_app" "blog" {
  container_id = lws_container.apps.id
  name         = "blog"
  compose      = <<-YAML
    services:
      wordpress:
        image: wordpress:6
        ports: ["80:80"]
        environment:
          WORDPRESS_DB_HOST: db
          WORDPRESS_DB_PASSWORD: "$${DB_PASSWORD}"
      db:
        image: mariadb:11
        environment:
          MARIADB_ROOT_PASSWORD: "$${DB_PASSWORD}"
        volumes: ["db:/var/lib/mysql"]
    volumes:
      db: {}
  YAML
  env = {
    DB_PASSWORD = var.db_password
  }
}

# A single service from an image.
resource "lws_docker_app" "whoami" {
  container_id = lws_container.apps.id
  name         = "whoami"
  image        = "traefik/whoami:v1.10"
  ports        = ["8080:80"]
}

variable "db_password" {
  type      = string
  sensitive = true
}
