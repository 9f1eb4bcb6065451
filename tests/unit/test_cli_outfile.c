/*
 * test_cli_outfile.c - the tool's atomic result files (src/cli/outfile.c): the
 * file appears whole with mode 0644, or the previous one stays byte for byte,
 * and no temporary is ever left in the directory.
 */
#define _POSIX_C_SOURCE 200809L

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL) {
        return -1;
    }
    snprintf(fx->dir, sizeof(fx->dir), "%s", "/tmp/pinset-outfile-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/m.prom", fx->dir);
    *state = fx;
    return 0;
}

/* The names in the directory, sorted, joined by spaces. */
static void names(const char *dir, char *buf, size_t cap)
{
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort);
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.' || strlen(list[i]->d_name) > 2) {
            int w = snprintf(buf + used, cap - used, "%s%s", used ? " " : "", list[i]->d_name);
            used += w > 0 && (size_t)w < cap - used ? (size_t)w : 0;
        }
        free(list[i]);
    }
    free(list);
}

static int teardown(void **state)
{
    fixture *fx = *state;

    /* each test leaves only m.prom, or nothing */
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void write_file(outfile *o, const char *path, const char *text)
{
    char err[256];

    assert_int_equal(outfile_open(o, path, err, sizeof(err)), 0);
    assert_non_null(o->f);
    assert_true(fputs(text, o->f) >= 0);
}

static void commit_replaces_the_file_whole_with_mode_0644(void **state)
{
    fixture *fx = *state;
    outfile o = OUTFILE_INIT;
    char err[256], buf[256];
    struct stat st;
    mode_t old = umask(077);

    write_file(&o, fx->path, "first\n");
    names(fx->dir, buf, sizeof(buf));
    assert_int_equal(strncmp(buf, "m.prom.", 7), 0); /* only the temporary, beside FILE */
    assert_int_equal(outfile_commit(&o, err, sizeof(err)), 0);
    write_file(&o, fx->path, "second\n");
    assert_int_equal(outfile_commit(&o, err, sizeof(err)), 0);
    umask(old);
    slurp(fx->path, buf, sizeof(buf));
    assert_string_equal(buf, "second\n");
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    names(fx->dir, buf, sizeof(buf));
    assert_string_equal(buf, "m.prom");
    assert_null(o.f);
    assert_null(o.tmp);
}

static void abort_keeps_the_previous_file_and_removes_the_temporary(void **state)
{
    fixture *fx = *state;
    outfile o = OUTFILE_INIT;
    char err[256], buf[256];

    write_file(&o, fx->path, "kept\n");
    assert_int_equal(outfile_commit(&o, err, sizeof(err)), 0);
    write_file(&o, fx->path, "half a resu");
    outfile_abort(&o);
    slurp(fx->path, buf, sizeof(buf));
    assert_string_equal(buf, "kept\n");
    names(fx->dir, buf, sizeof(buf));
    assert_string_equal(buf, "m.prom");
}

static void a_failed_rename_removes_the_temporary(void **state)
{
    fixture *fx = *state;
    outfile o = OUTFILE_INIT;
    char err[256], buf[256];

    /* FILE becomes a directory while the run writes: rename(2) of a file over it fails */
    write_file(&o, fx->path, "x\n");
    assert_int_equal(mkdir(fx->path, 0700), 0);
    assert_int_equal(outfile_commit(&o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot write"));
    names(fx->dir, buf, sizeof(buf));
    assert_string_equal(buf, "m.prom");
    assert_int_equal(rmdir(fx->path), 0);
}

static void a_directory_is_refused_at_open(void **state)
{
    fixture *fx = *state;
    outfile o = OUTFILE_INIT;
    char err[256], buf[256];

    assert_int_equal(mkdir(fx->path, 0700), 0);
    assert_int_equal(outfile_open(&o, fx->path, err, sizeof(err)), -1);
    assert_string_equal(err, "--output needs a file name, not a directory");
    assert_null(o.f);
    names(fx->dir, buf, sizeof(buf));
    assert_string_equal(buf, "m.prom");
    assert_int_equal(rmdir(fx->path), 0);
}

static void open_fails_cleanly(void **state)
{
    fixture *fx = *state;
    outfile o = OUTFILE_INIT;
    char err[256], path[192], buf[256];

    snprintf(path, sizeof(path), "%s/none/m.prom", fx->dir);
    assert_int_equal(outfile_open(&o, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot create a temporary file for"));
    assert_null(o.f);
    assert_int_equal(outfile_open(&o, "dir/", err, sizeof(err)), -1);
    assert_int_equal(outfile_open(&o, "", err, sizeof(err)), -1);
    names(fx->dir, buf, sizeof(buf));
    assert_string_equal(buf, "");
    outfile_abort(&o); /* harmless on a released outfile */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_replaces_the_file_whole_with_mode_0644, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(abort_keeps_the_previous_file_and_removes_the_temporary,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_rename_removes_the_temporary, setup, teardown),
        cmocka_unit_test_setup_teardown(a_directory_is_refused_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(open_fails_cleanly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
