/* Tests of the C ABI: a full sync through a C directory, simulation, a held run and its
 * approval, async runs, the log sink, error and NULL-argument paths, and the panic boundary.
 * Usage: test_abi QUICKSTART_DIR WORK_DIR. Writes WORK_DIR/c-results.json (per-user results of
 * the quick start) for comparison with the CLI. Prints "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "memdir.h"
#include "usersync.h"

static int passed, failed;
static const char *quickstart, *work;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            ok = 0;                                                                   \
        }                                                                             \
    } while (0)

static void report(const char *name, int ok) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", name);
    if (ok) passed++; else failed++;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = 0;
    fclose(f);
    return text;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static char *path_in(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* The value following "key": in a JSON text, as an integer (-1 when absent). */
static long json_int(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = json ? strstr(json, pattern) : NULL;
    return at ? strtol(at + strlen(pattern), NULL, 10) : -1;
}

static int has(const char *text, const char *needle) {
    return text && strstr(text, needle) != NULL;
}

/* A fresh engine over a fresh C directory; state in WORK_DIR/<name>.db. */
static UsersyncEngine *engine_for(const char *name, const char *config, const char *base, MemDir **dir_out) {
    MemDir *dir = memdir_new(NULL);
    UsersyncDirectory vt = memdir_vtable(dir);
    char *state = path_in(work, name);
    UsersyncEngine *engine = NULL;
    char *error = NULL;
    UsersyncStatus s = usersync_engine_new(state, config, base, &vt, &engine, &error);
    if (s != USERSYNC_STATUS_OK) fprintf(stderr, "  engine_new: %d %s\n", s, error ? error : "");
    usersync_string_free(error);
    free(state);
    *dir_out = dir;
    return engine;
}

/* Runs with a request and returns the report (caller frees). */
static char *run(UsersyncEngine *engine, const char *request) {
    char *report = NULL, *error = NULL;
    UsersyncStatus s = usersync_engine_run(engine, request, &report, &error);
    if (s != USERSYNC_STATUS_OK) fprintf(stderr, "  run: %d %s\n", s, error ? error : "");
    usersync_string_free(error);
    return report;
}

static void test_abi_version(void) {
    int ok = 1;
    CHECK(usersync_abi_version() == USERSYNC_ABI_VERSION);
    report("the library's ABI version matches the header", ok);
}

static void test_quickstart(void) {
    int ok = 1;
    char *config_path = path_in(quickstart, "config.json");
    char *config = read_file(config_path);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("quickstart.db", config, quickstart, &dir);
    CHECK(engine != NULL);
    char *first = run(engine, NULL);
    CHECK(has(first, "\"status\":\"DONE\""));
    CHECK(json_int(first, "created") == 27);
    CHECK(memdir_count(dir, false) == 27);
    MemUser *maria = memdir_find(dir, "maria.garcia");
    CHECK(maria && maria->email && strcmp(maria->email, "maria.garcia@partner.org") == 0);

    char *results = NULL, *error = NULL;
    CHECK(usersync_engine_results(engine, json_int(first, "run_id"), &results, &error) == USERSYNC_STATUS_OK);
    char *out = path_in(work, "c-results.json");
    if (results) write_file(out, results);

    char *decision = NULL;
    CHECK(usersync_engine_on_login(engine, "hr-csv", "Alice.Andersen", &decision, &error) == USERSYNC_STATUS_OK);
    CHECK(has(decision, "\"allow\":true"));
    CHECK(dir->finds == 1);
    usersync_string_free(decision);

    char *check = NULL;
    CHECK(usersync_engine_check(engine, "hr-csv", &check, &error) == USERSYNC_STATUS_OK);
    CHECK(has(check, "\"ok\":true"));
    usersync_string_free(check);

    char *second = run(engine, "{\"trigger\":\"c-test\"}");
    CHECK(json_int(second, "writes") == 0);
    CHECK(json_int(second, "unchanged") == 27);

    usersync_string_free(first);
    usersync_string_free(second);
    usersync_string_free(results);
    usersync_engine_free(engine);
    free(out);
    free(config);
    free(config_path);
    report("the quick start syncs into a C directory; login finds a user; a second run writes nothing", ok);
}

/* The "counts":{...} object of a report. */
static char *counts_of(const char *report) {
    const char *at = report ? strstr(report, "\"counts\":{") : NULL;
    if (!at) return strdup("");
    const char *end = strchr(at, '}');
    return strndup(at, (size_t)(end - at + 1));
}

static void test_simulation(void) {
    int ok = 1;
    char *config_path = path_in(quickstart, "config.json");
    char *config = read_file(config_path);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("simulation.db", config, quickstart, &dir);
    char *sim = run(engine, "{\"simulate\":true}");
    CHECK(has(sim, "\"simulate\":true"));
    CHECK(json_int(sim, "writes") == 0);
    CHECK(memdir_count(dir, false) == 0);
    char *real = run(engine, "{}");
    char *a = counts_of(sim), *b = counts_of(real);
    CHECK(strlen(a) > 0 && strcmp(a, b) == 0);
    usersync_string_free(sim);
    usersync_string_free(real);
    free(a);
    free(b);
    usersync_engine_free(engine);
    free(config);
    free(config_path);
    report("a simulation writes nothing and predicts the real counts", ok);
}

static void write_people(const char *path, int n) {
    FILE *f = fopen(path, "wb");
    fputs("id,user,mail\n", f);
    for (int i = 1; i <= n; i++) fprintf(f, "%d,user%d,user%d@example.com\n", 100 + i, i, i);
    fclose(f);
}

static char *small_config(const char *csv) {
    const char *fmt =
        "{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"source\":{\"path\":\"%s\",\"id_column\":\"id\"},"
        "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"email\",\"source\":\"mail\"}]}]}";
    char *config = malloc(strlen(fmt) + strlen(csv) + 1);
    sprintf(config, fmt, csv);
    return config;
}

static void test_held_and_approve(void) {
    int ok = 1;
    char *csv = path_in(work, "people.csv");
    char *config = small_config(csv);
    write_people(csv, 20);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("held.db", config, NULL, &dir);
    char *first = run(engine, NULL);
    CHECK(json_int(first, "created") == 20);
    write_people(csv, 8);
    char *held = run(engine, NULL);
    CHECK(has(held, "\"status\":\"HELD\""));
    CHECK(json_int(held, "held") == 12);
    CHECK(memdir_count(dir, true) == 20);

    char *approved = NULL, *error = NULL;
    CHECK(usersync_engine_approve(engine, json_int(held, "run_id"), &approved, &error) == USERSYNC_STATUS_OK);
    CHECK(has(approved, "\"status\":\"DONE\""));
    CHECK(json_int(approved, "disabled") == 12);
    CHECK(memdir_count(dir, true) == 8);

    /* Approving again is refused, with a reason, and the out-param is left alone. */
    char *again = (char *)"untouched";
    CHECK(usersync_engine_approve(engine, json_int(held, "run_id"), &again, &error) ==
          USERSYNC_STATUS_INVALID_REQUEST);
    CHECK(has(error, "already approved"));
    CHECK(strcmp(again, "untouched") == 0);
    usersync_string_free(error);

    usersync_string_free(first);
    usersync_string_free(held);
    usersync_string_free(approved);
    usersync_engine_free(engine);
    free(config);
    free(csv);
    report("a mass removal is held and applied by approval", ok);
}

static void test_directory_failure_for_one_user(void) {
    int ok = 1;
    char *csv = path_in(work, "people-fail.csv");
    char *config = small_config(csv);
    write_people(csv, 5);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("fail.db", config, NULL, &dir);
    dir->fail_username = "user3";
    char *r = run(engine, NULL);
    CHECK(has(r, "\"status\":\"PARTIALLY_FAILED\""));
    CHECK(json_int(r, "created") == 4);
    CHECK(json_int(r, "failed") == 1);
    CHECK(has(r, "the test directory refuses this user"));
    usersync_string_free(r);
    usersync_engine_free(engine);
    free(config);
    free(csv);
    report("a directory error fails one user and the run goes on", ok);
}

static void test_async_run(void) {
    int ok = 1;
    char *csv = path_in(work, "people-async.csv");
    char *config = small_config(csv);
    write_people(csv, 30);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("async.db", config, NULL, &dir);
    int64_t run_id = -1;
    char *error = NULL, *report_json = NULL, *progress = NULL;
    CHECK(usersync_engine_start(engine, "{\"connector\":\"people\"}", &run_id, &error) == USERSYNC_STATUS_OK);
    CHECK(run_id > 0);
    /* Progress answers the moment start returned the id. */
    CHECK(usersync_engine_progress(engine, run_id, &progress, &error) == USERSYNC_STATUS_OK);
    CHECK(json_int(progress, "run_id") == run_id);
    usersync_string_free(progress);
    progress = NULL;
    CHECK(usersync_engine_wait(engine, run_id, &report_json, &error) == USERSYNC_STATUS_OK);
    CHECK(has(report_json, "\"status\":\"DONE\""));
    CHECK(usersync_engine_progress(engine, run_id, &progress, &error) == USERSYNC_STATUS_OK);
    CHECK(has(progress, "\"phase\":\"finished\""));
    CHECK(json_int(progress, "done") == 30);
    CHECK(usersync_engine_cancel(engine, 4242, &error) == USERSYNC_STATUS_INVALID_REQUEST);
    usersync_string_free(error);
    usersync_string_free(report_json);
    usersync_string_free(progress);
    usersync_engine_free(engine);
    free(config);
    free(csv);
    report("a started run can be followed and waited for", ok);
}

static int log_lines, log_started, log_destroyed;

static void on_log(void *ctx, const char *level, const char *target, const char *message) {
    (void)ctx;
    (void)target;
    log_lines++;
    if (strcmp(level, "INFO") == 0 && strstr(message, "started: connector 'people'")) log_started++;
}

static void on_log_destroy(void *ctx) {
    (void)ctx;
    log_destroyed++;
}

static void test_log_sink(void) {
    int ok = 1;
    UsersyncLogSink sink = {.ctx = NULL, .log = on_log, .destroy = on_log_destroy};
    char *error = NULL;
    CHECK(usersync_log_sink_set(&sink, USERSYNC_LOG_LEVEL_INFO, &error) == USERSYNC_STATUS_OK);
    char *csv = path_in(work, "people-log.csv");
    char *config = small_config(csv);
    write_people(csv, 2);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("log.db", config, NULL, &dir);
    char *r = run(engine, NULL);
    CHECK(log_started == 1);
    usersync_log_sink_clear();
    CHECK(log_destroyed == 1);
    int before = log_lines;
    char *r2 = run(engine, NULL);
    CHECK(log_lines == before);
    usersync_string_free(r);
    usersync_string_free(r2);
    usersync_engine_free(engine);
    free(config);
    free(csv);
    report("the log sink receives a run's start line and is released when cleared", ok);
}

static void test_errors(void) {
    int ok = 1;
    char *error = NULL;
    UsersyncEngine *engine = (UsersyncEngine *)0x1; /* sentinel: must stay untouched */
    int destroyed = 0;
    MemDir *dir = memdir_new(&destroyed);
    UsersyncDirectory vt = memdir_vtable(dir);
    char *state = path_in(work, "errors.db");

    CHECK(usersync_engine_new(state, "{\"connectors\":[{\"id\":\"x\",\"type\":\"ldif\"}]}", NULL, &vt, &engine,
                              &error) == USERSYNC_STATUS_CONFIG);
    CHECK(has(error, "connectors[0].type: unknown value 'ldif'"));
    CHECK(has(error, "connectors[0].source: missing"));
    CHECK(engine == (UsersyncEngine *)0x1);
    CHECK(destroyed == 1);
    usersync_string_free(error);
    error = NULL;

    dir = memdir_new(&destroyed);
    vt = memdir_vtable(dir);
    vt.unlock = NULL;
    CHECK(usersync_engine_new(state, "{}", NULL, &vt, &engine, &error) == USERSYNC_STATUS_NULL_ARGUMENT);
    CHECK(has(error, "directory callback 'unlock' is NULL"));
    CHECK(destroyed == 2);
    usersync_string_free(error);
    error = NULL;

    char *report_json = (char *)"untouched";
    CHECK(usersync_engine_run(NULL, NULL, &report_json, &error) == USERSYNC_STATUS_NULL_ARGUMENT);
    CHECK(has(error, "engine is NULL"));
    CHECK(strcmp(report_json, "untouched") == 0);
    usersync_string_free(error);
    error = NULL;
    CHECK(usersync_engine_new(NULL, "{}", NULL, NULL, &engine, &error) == USERSYNC_STATUS_NULL_ARGUMENT);
    usersync_string_free(error);
    /* A NULL error out-param is allowed: the status alone reports the failure. */
    CHECK(usersync_config_validate(NULL, NULL) == USERSYNC_STATUS_NULL_ARGUMENT);
    CHECK(usersync_config_validate("[1,", NULL) == USERSYNC_STATUS_CONFIG);
    CHECK(usersync_engine_cancel(NULL, 1, NULL) == USERSYNC_STATUS_NULL_ARGUMENT);

    /* A real engine refuses bad requests with a reason. */
    char *csv = path_in(work, "people-err.csv");
    char *config = small_config(csv);
    write_people(csv, 2);
    UsersyncEngine *real = engine_for("errors2.db", config, NULL, &dir);
    error = NULL;
    report_json = NULL;
    CHECK(usersync_engine_run(real, "{\"mode\":\"sideways\"}", &report_json, &error) == USERSYNC_STATUS_CONFIG);
    CHECK(has(error, "unknown mode 'sideways'"));
    CHECK(report_json == NULL);
    usersync_string_free(error);
    error = NULL;
    CHECK(usersync_engine_set_config(real, "{\"connectors\":[]}", NULL, &error) == USERSYNC_STATUS_CONFIG);
    CHECK(has(error, "needs at least one connector"));
    usersync_string_free(error);
    error = NULL;
    char *results = NULL;
    CHECK(usersync_engine_results(real, 999, &results, &error) == USERSYNC_STATUS_INVALID_REQUEST);
    CHECK(has(error, "no run with id 999"));
    usersync_string_free(error);
    usersync_engine_free(real);

    usersync_engine_free(NULL);
    usersync_string_free(NULL);
    free(state);
    free(config);
    free(csv);
    report("errors and NULL arguments return a status and a message, and leave outputs alone", ok);
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void test_scheduler_and_lock(void) {
    int ok = 1;
    char *csv = path_in(work, "people-scheduled.csv");
    write_people(csv, 5);
    const char *fmt =
        "{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"source\":{\"path\":\"%s\",\"id_column\":\"id\"},"
        "\"schedule\":{\"full\":\"* * * * * ?\"},"
        "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"email\",\"source\":\"mail\"}]}]}";
    char *config = malloc(strlen(fmt) + strlen(csv) + 1);
    sprintf(config, fmt, csv);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("scheduled.db", config, NULL, &dir);
    char *error = NULL, *fires = NULL, *history = NULL;

    CHECK(usersync_engine_next_fire_times(engine, 3, &fires, &error) == USERSYNC_STATUS_OK);
    CHECK(has(fires, "\"connector\":\"people\"") && has(fires, "\"kind\":\"full\"") && has(fires, "\"at\":"));

    /* Another node holds the connector's lock: the run is skipped, and recorded as such. */
    dir->locked = strdup("usersync:people");
    char *busy = (char *)"untouched";
    CHECK(usersync_engine_run(engine, NULL, &busy, &error) == USERSYNC_STATUS_BUSY);
    CHECK(has(error, "is in progress") && has(error, "skipped"));
    CHECK(strcmp(busy, "untouched") == 0);
    usersync_string_free(error);
    error = NULL;
    free(dir->locked);
    dir->locked = NULL;

    /* The scheduler runs the schedule (every second) on its own thread. */
    CHECK(usersync_engine_scheduler_start(engine, &error) == USERSYNC_STATUS_OK);
    /* Watched through the history (the directory belongs to the run's thread meanwhile). */
    for (int i = 0; i < 100; i++) {
        CHECK(usersync_engine_history(engine, 50, &history, &error) == USERSYNC_STATUS_OK);
        int done = has(history, "\"status\":\"DONE\"");
        usersync_string_free(history);
        history = NULL;
        if (done) break;
        sleep_ms(50);
    }
    CHECK(usersync_engine_scheduler_stop(engine, &error) == USERSYNC_STATUS_OK);
    CHECK(memdir_count(dir, false) == 5);
    CHECK(dir->locked == NULL); /* released by every run */
    CHECK(usersync_engine_history(engine, 50, &history, &error) == USERSYNC_STATUS_OK);
    CHECK(has(history, "\"trigger\":\"schedule\""));
    CHECK(has(history, "\"status\":\"SKIPPED\""));

    /* Without a schedule there is nothing to start. */
    char *plain = small_config(csv);
    CHECK(usersync_engine_set_config(engine, plain, NULL, &error) == USERSYNC_STATUS_OK);
    CHECK(usersync_engine_scheduler_start(engine, &error) == USERSYNC_STATUS_INVALID_REQUEST);
    CHECK(has(error, "no connector has a schedule"));
    usersync_string_free(error);

    usersync_string_free(fires);
    usersync_string_free(history);
    usersync_engine_free(engine);
    free(plain);
    free(config);
    free(csv);
    report("the scheduler runs schedules, fire times are listed, a held lock skips the run", ok);
}

typedef struct {
    UsersyncEngine *engine;
    UsersyncStatus status;
    char *report;
} BlockingRun;

static void *blocking_run(void *arg) {
    BlockingRun *b = arg;
    char *error = NULL;
    b->status = usersync_engine_run(b->engine, "{\"connector\":\"people\"}", &b->report, &error);
    usersync_string_free(error);
    return NULL;
}

/* Freeing the engine on another thread while a blocking sync calls a slow directory cancels the
 * sync and waits for it: the directory is destroyed only after its last call (valgrind would
 * report any later access), and the sync ends CANCELLED. */
static void test_free_during_blocking_sync(void) {
    int ok = 1;
    char *csv = path_in(work, "people-slow.csv");
    char *config = small_config(csv);
    write_people(csv, 200);
    int destroyed = 0, creates = 0;
    MemDir *dir = memdir_new(&destroyed);
    dir->slow_ms = 10;
    dir->creates = &creates;
    UsersyncDirectory vt = memdir_vtable(dir);
    char *state = path_in(work, "slow.db");
    UsersyncEngine *engine = NULL;
    char *error = NULL;
    CHECK(usersync_engine_new(state, config, NULL, &vt, &engine, &error) == USERSYNC_STATUS_OK);
    BlockingRun b = {.engine = engine, .status = USERSYNC_STATUS_OK, .report = NULL};
    pthread_t t;
    pthread_create(&t, NULL, blocking_run, &b);
    for (int i = 0; i < 500 && creates < 10; i++) sleep_ms(10);
    CHECK(creates >= 10);
    usersync_engine_free(engine);
    int at_free = creates;
    CHECK(destroyed == 1);
    pthread_join(t, NULL);
    CHECK(creates == at_free); /* no call after free returned */
    CHECK(b.status == USERSYNC_STATUS_OK);
    CHECK(has(b.report, "\"status\":\"CANCELLED\""));
    CHECK(json_int(b.report, "created") < 200);
    usersync_string_free(b.report);
    free(state);
    free(config);
    free(csv);
    report("freeing the engine during a blocking sync cancels it and waits", ok);
}

static int failing_capabilities(void *ctx, UsersyncOut *out) {
    (void)ctx;
    usersync_out_set(out, "the host cannot say");
    return USERSYNC_DIR_RESULT_FAILED;
}

/* Bad bytes from C: invalid UTF-8 and strings cut by NUL are refused with a message naming the
 * argument; a callback that fails is reported with the host's own reason. */
static void test_bad_input_over_c(void) {
    int ok = 1;
    char *error = NULL;
    const char bad_utf8[] = {'{', '"', 'c', 'o', 'n', 'n', 'e', 'c', 't', 'o', 'r', 's', '"', ':', '\xff', '}', 0};
    CHECK(usersync_config_validate(bad_utf8, &error) != USERSYNC_STATUS_OK);
    CHECK(has(error, "config_json") && has(error, "UTF-8"));
    usersync_string_free(error);
    error = NULL;
    /* A NUL inside a value: C sees the string end there, so the JSON is cut and refused. */
    const char with_nul[] = "{\"connectors\":[{\"id\":\"a\0b\"}]}";
    CHECK(usersync_config_validate(with_nul, &error) == USERSYNC_STATUS_CONFIG);
    usersync_string_free(error);
    error = NULL;

    char *csv = path_in(work, "people-caps.csv");
    char *config = small_config(csv);
    write_people(csv, 2);
    MemDir *dir = memdir_new(NULL);
    UsersyncDirectory vt = memdir_vtable(dir);
    vt.capabilities = failing_capabilities;
    char *state = path_in(work, "caps.db");
    UsersyncEngine *engine = NULL;
    CHECK(usersync_engine_new(state, config, NULL, &vt, &engine, &error) == USERSYNC_STATUS_OK);
    char *report_json = NULL;
    CHECK(usersync_engine_run(engine, NULL, &report_json, &error) != USERSYNC_STATUS_OK);
    CHECK(has(error, "the host cannot say"));
    CHECK(report_json == NULL);
    usersync_string_free(error);
    usersync_engine_free(engine);
    free(state);
    free(config);
    free(csv);
    report("invalid UTF-8, NULs and a failing callback over C get clear errors", ok);
}

/* Login routing over C: the header a route names chooses the connector that provisions the user;
 * without it the higher-priority connector answers (and does not know him). */
static void test_login_routes(void) {
    int ok = 1;
    char *staff = path_in(work, "route-staff.csv"), *partners = path_in(work, "route-partners.csv");
    write_people(staff, 2);
    FILE *f = fopen(partners, "wb");
    fputs("id,user,mail\n900,pat,pat@partner.example\n", f);
    fclose(f);
    const char *fmt =
        "{\"connectors\":["
        "{\"id\":\"staff\",\"type\":\"csv\",\"priority\":10,\"provision_on_login\":true,"
        "\"source\":{\"path\":\"%s\",\"id_column\":\"id\"},"
        "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"email\",\"source\":\"mail\"}]},"
        "{\"id\":\"partners\",\"type\":\"csv\",\"priority\":1,\"provision_on_login\":true,"
        "\"source\":{\"path\":\"%s\",\"id_column\":\"id\"},"
        "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"email\",\"source\":\"mail\"}]}],"
        "\"login\":{\"routes\":[{\"attribute\":\"header:X-Idp\",\"equals\":\"partners\",\"connector\":\"partners\"}]}}";
    char *config = malloc(strlen(fmt) + strlen(staff) + strlen(partners) + 1);
    sprintf(config, fmt, staff, partners);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("routes.db", config, NULL, &dir);
    CHECK(engine != NULL);

    char *names = NULL, *error = NULL;
    CHECK(usersync_engine_login_attributes(engine, &names, &error) == USERSYNC_STATUS_OK);
    CHECK(names && strcmp(names, "[\"header:X-Idp\"]") == 0);
    usersync_string_free(names);

    char *decision = NULL;
    CHECK(usersync_engine_on_login_with(engine, NULL, "pat", NULL, &decision, &error) == USERSYNC_STATUS_OK);
    CHECK(memdir_find(dir, "pat") == NULL);
    usersync_string_free(decision);
    decision = NULL;

    CHECK(usersync_engine_on_login_with(engine, NULL, "pat", "{\"header:x-idp\":\"Partners\"}", &decision, &error) ==
          USERSYNC_STATUS_OK);
    CHECK(has(decision, "\"allow\":true"));
    MemUser *pat = memdir_find(dir, "pat");
    CHECK(pat && pat->email && strcmp(pat->email, "pat@partner.example") == 0);
    usersync_string_free(decision);
    decision = NULL;

    /* Attributes that are not an object of strings: refused by name, the out-param untouched. */
    CHECK(usersync_engine_on_login_with(engine, NULL, "pat", "[1]", &decision, &error) ==
          USERSYNC_STATUS_INVALID_REQUEST);
    CHECK(decision == NULL && has(error, "attributes_json"));
    usersync_string_free(error);

    usersync_engine_free(engine);
    free(config);
    free(staff);
    free(partners);
    report("login routes over C: a route's header provisions from its connector; bad attributes are refused", ok);
}

/* Hostile files through the C host: each run ends FAILED with the limit's key, the process lives
 * on, and the next sync on the same engine works. (Peak memory is measured through the CLI and the
 * JVM; under valgrind it would measure valgrind.) */
static void test_hostile_files(void) {
    int ok = 1;
    char *xlsx = path_in(work, "hostile.xlsx");
    char *huge = path_in(work, "huge.csv");
    char *good = path_in(work, "people-good.csv");
    write_people(good, 3);
    const char *fmt = "{\"connectors\":[{\"id\":\"people\",\"type\":\"%s\",\"source\":{\"path\":\"%s\","
                      "\"id_column\":\"id\",\"limits\":{\"max_file_mb\":2048}},"
                      "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"}]}]}";
    char config[1024];
    snprintf(config, sizeof config, fmt, "xlsx", xlsx);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("hostile.db", config, NULL, &dir);
    char *r = run(engine, NULL);
    CHECK(has(r, "\"status\":\"FAILED\"") && has(r, "source.limits.max_columns"));
    usersync_string_free(r);
    char *error = NULL;
    snprintf(config, sizeof config, fmt, "csv", huge);
    CHECK(usersync_engine_set_config(engine, config, NULL, &error) == USERSYNC_STATUS_OK);
    r = run(engine, NULL);
    CHECK(has(r, "\"status\":\"FAILED\"") && has(r, "source.limits.max_row_kb"));
    usersync_string_free(r);
    snprintf(config, sizeof config, fmt, "csv", good);
    CHECK(usersync_engine_set_config(engine, config, NULL, &error) == USERSYNC_STATUS_OK);
    r = run(engine, NULL);
    CHECK(has(r, "\"status\":\"DONE\"") && json_int(r, "created") == 3);
    usersync_string_free(r);
    usersync_engine_free(engine);
    free(xlsx);
    free(huge);
    free(good);
    report("a hostile XLSX and a 1 GB single-cell CSV fail their runs; the next sync works", ok);
}

/* ABI 2: writes come inside batches, and a single-user run reads its user by key instead of
 * listing the directory. */
static void test_batches_and_lookups(void) {
    int ok = 1;
    char *csv = path_in(work, "people-batch.csv");
    char *config = small_config(csv);
    write_people(csv, 30);
    MemDir *dir;
    UsersyncEngine *engine = engine_for("batch.db", config, NULL, &dir);
    char *r = run(engine, NULL);
    CHECK(json_int(r, "created") == 30);
    CHECK(dir->batches_begun >= 1 && dir->batches_begun == dir->batches_ended);
    CHECK(dir->writes_outside_batch == 0);
    CHECK(!dir->in_batch);
    CHECK(dir->lists == 1);
    usersync_string_free(r);
    /* A single-user run reads that user alone. */
    int lists = dir->lists;
    r = run(engine, "{\"mode\":\"single_user\",\"user\":\"user7\"}");
    CHECK(has(r, "\"status\":\"DONE\""));
    CHECK(dir->lists == lists);
    CHECK(dir->by_keys == 1);
    usersync_string_free(r);
    usersync_engine_free(engine);
    free(config);
    free(csv);
    report("writes come in batches; a single-user run reads its user by key (ABI 2)", ok);
}

static void test_panic(void) {
    int ok = 1;
    char *error = NULL;
    CHECK(usersync_testing_panic(&error) == USERSYNC_STATUS_PANIC);
    CHECK(has(error, "usersync_testing_panic was called"));
    usersync_string_free(error);
    CHECK(usersync_abi_version() == USERSYNC_ABI_VERSION); /* still alive */
    report("a panic inside the library returns USERSYNC_STATUS_PANIC instead of aborting", ok);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s QUICKSTART_DIR WORK_DIR\n", argv[0]);
        return 2;
    }
    quickstart = argv[1];
    work = argv[2];
    test_abi_version();
    test_quickstart();
    test_simulation();
    test_held_and_approve();
    test_directory_failure_for_one_user();
    test_async_run();
    test_log_sink();
    test_errors();
    test_scheduler_and_lock();
    test_free_during_blocking_sync();
    test_bad_input_over_c();
    test_login_routes();
    test_hostile_files();
    test_batches_and_lookups();
    test_panic();
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
