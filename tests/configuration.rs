//! The one configuration, through the `outcomes` command: the annotated example is valid, the
//! order of precedence holds end to end, unknown keys are refused by name, a configured run
//! uses the file's settings, and `--log-format json` writes one object per line.

use std::process::Command;

use crate::common::{intake, outcomes, repo, run, scratch};

/// `config show`'s row for `setting`, its cells split on runs of two or more spaces.
fn shown(output: &str, setting: &str) -> Vec<String> {
    let row = output
        .lines()
        .map(str::trim)
        .find(|line| line.split_whitespace().next() == Some(setting))
        .unwrap_or_else(|| panic!("no row for {setting} in\n{output}"));
    row.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .map(str::to_owned)
        .collect()
}

fn show(command: &mut Command) -> String {
    String::from_utf8(run(command).stdout).unwrap()
}

#[test]
fn the_example_file_is_valid_and_its_secrets_are_masked() {
    let output = show(
        outcomes()
            .arg("--config")
            .arg(repo().join("deploy/outcomes.toml"))
            .args(["config", "show"])
            .env_remove("OUTCOMES_PSEUDONYM_KEY"),
    );
    let file = format!("file {}", repo().join("deploy/outcomes.toml").display());
    assert_eq!(
        shown(&output, "ingest.lake"),
        [
            "ingest.lake",
            "/var/lib/outcomes/lake",
            file.as_str(),
            "OUTCOMES_INGEST_LAKE"
        ]
    );
    assert_eq!(
        shown(&output, "kafka.settings.\"sasl.password\"")[1],
        "******** (read from /etc/outcomes/secrets/kafka-password)"
    );
    assert_eq!(
        shown(&output, "transform.consortia.north-shore.wage_floor")[1],
        "16.28"
    );
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = scratch();
    let config = dir.path().join("outcomes.toml");
    std::fs::write(
        &config,
        "[ingest]\ngroup = \"file-group\"\nbatch_seconds = 30\nbatch_messages = 500\n",
    )
    .unwrap();
    let output = show(
        outcomes()
            .args(["config", "show", "--", "ingest", "--batch-messages", "700"])
            .env("OUTCOMES_CONFIG", &config)
            .env("OUTCOMES_INGEST_BATCH_SECONDS", "45")
            .env("OUTCOMES_INGEST_BATCH_MESSAGES", "600")
            .env("OUTCOMES_PSEUDONYM_KEY", "a-secret-that-must-not-show"),
    );
    let file = format!("file {}", config.display());
    assert_eq!(
        shown(&output, "ingest.group")[1..3],
        ["file-group", file.as_str()]
    );
    assert_eq!(
        shown(&output, "ingest.batch_seconds")[1..3],
        ["45", "environment OUTCOMES_INGEST_BATCH_SECONDS"]
    );
    assert_eq!(
        shown(&output, "ingest.batch_messages")[1..3],
        ["700", "flag --batch-messages"]
    );
    assert_eq!(
        shown(&output, "ingest.topics")[1..3],
        [outcomes_schemas::DEFAULT_TOPIC_PATTERN, "default"]
    );
    assert_eq!(shown(&output, "ingest.pseudonym_key")[1], "********");
    assert!(!output.contains("a-secret-that-must-not-show"), "{output}");
}

#[test]
fn an_unknown_key_is_refused_naming_the_key_and_the_file() {
    let dir = scratch();
    let config = dir.path().join("outcomes.toml");
    std::fs::write(&config, "[transform]\nwage_flor = 15.0\n").unwrap();
    let output = outcomes()
        .arg("--config")
        .arg(&config)
        .args([
            "transform",
            "--as-of",
            "2026-10-31",
            "--lake",
            "l",
            "--out",
            "o",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("wage_flor"), "{text}");
    assert!(text.contains(&config.display().to_string()), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn a_configured_load_logs_each_batch_as_a_json_object() {
    let dir = scratch();
    let feed = dir.path().join("feed.ndjson");
    // Two valid intakes and one line that is not JSON: one batch, lines 1 to 3.
    std::fs::write(
        &feed,
        format!(
            "{}\n{}\nnot json\n",
            intake(1, "person-1"),
            intake(2, "person-2")
        ),
    )
    .unwrap();
    let lake = dir.path().join("lake");
    let config = dir.path().join("outcomes.toml");
    std::fs::write(
        &config,
        format!(
            "[ingest]\nlake = {:?}\n\n[log]\nformat = \"json\"\nfilter = \"info\"\n",
            lake.display().to_string()
        ),
    )
    .unwrap();
    let output = run(outcomes()
        .arg("--config")
        .arg(&config)
        .args([
            "ingest",
            "--demo-key",
            "--consortium",
            "north-shore",
            "--from-file",
        ])
        .arg(&feed));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let objects: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let batch = objects
        .iter()
        .find(|o| o["message"] == "batch committed")
        .unwrap_or_else(|| panic!("no batch line in\n{stderr}"));
    assert_eq!(batch["source_file"], "feed.ndjson");
    assert_eq!(batch["consortium"], "north-shore");
    assert_eq!(batch["first_line"], 1);
    assert_eq!(batch["last_line"], 3);
    assert_eq!(batch["events"], 2);
    assert_eq!(batch["rejected"], 1);
    // Each table's new version, and the data files added (relative to their table).
    assert!(batch["events_version"].is_u64() && batch["rejected_version"].is_u64());
    let files: Vec<&str> = batch["files"].as_str().unwrap().split(',').collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for file in files {
        assert!(
            ["events", "rejected"]
                .iter()
                .any(|table| lake.join(table).join(file).exists()),
            "{file}"
        );
    }
    // No raw person id in any log line.
    assert!(!stderr.contains("person-1"), "{stderr}");
}
