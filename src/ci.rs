//! The CI run a tool was started in, read from the environment each CI system sets: its name,
//! the page of the job, and the commit. spira-post puts them on the builds it creates and in
//! its `--summary-json`; no tool module reads CI variables itself.

/// A CI run, as its system names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CiRun {
    /// The CI system: `GitHub Actions`, `GitLab CI`, …
    pub(crate) system: &'static str,
    /// The pipeline or workflow, its run number and the job, as the system shows them.
    pub(crate) name: String,
    /// The page of the run or job.
    pub(crate) url: Option<String>,
    /// The commit tested.
    pub(crate) revision: Option<String>,
}

/// The systems known, each with the variable that tells it is running.
pub(crate) const SYSTEMS: &[(&str, &str)] = &[
    ("GitHub Actions", "GITHUB_ACTIONS"),
    ("GitLab CI", "GITLAB_CI"),
    ("Azure Pipelines", "TF_BUILD"),
    ("Jenkins", "JENKINS_URL"),
    ("CircleCI", "CIRCLECI"),
    ("Bitbucket Pipelines", "BITBUCKET_BUILD_NUMBER"),
];

/// The CI run of this process, from its environment; `None` outside CI.
pub(crate) fn from_env() -> Option<CiRun> {
    detect(&|k| std::env::var(k).ok())
}

/// The CI run the variables `var` gives describe (an empty variable counts as unset).
pub(crate) fn detect(var: &dyn Fn(&str) -> Option<String>) -> Option<CiRun> {
    let get = |k: &str| {
        var(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let (system, _) = SYSTEMS.iter().find(|(_, k)| get(k).is_some())?;
    let env = Env(&get);
    let (name, url, revision) = match *system {
        "GitHub Actions" => github(&env),
        "GitLab CI" => gitlab(&env),
        "Azure Pipelines" => azure(&env),
        "Jenkins" => jenkins(&env),
        "CircleCI" => circleci(&env),
        _ => bitbucket(&env),
    };
    Some(CiRun {
        system,
        name: if name.is_empty() {
            system.to_string()
        } else {
            name
        },
        url,
        revision,
    })
}

/// The variables, unset when empty.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

/// A CI run's name, page and commit.
type Parts = (String, Option<String>, Option<String>);

impl Env<'_> {
    fn get(&self, k: &str) -> Option<String> {
        (self.0)(k)
    }

    fn v(&self, k: &str) -> String {
        self.get(k).unwrap_or_default()
    }

    /// `PIPELINE #NUMBER job JOB`, leaving out what is unset.
    fn name(&self, pipeline: &str, number: &str, job: Option<&str>) -> String {
        let mut parts = vec![self.v(pipeline)];
        if let Some(n) = self.get(number) {
            parts.push(format!("#{n}"));
        }
        if let Some(j) = job.and_then(|j| self.get(j)) {
            parts.push(format!("job {j}"));
        }
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }
}

fn github(e: &Env<'_>) -> Parts {
    let url = match (e.get("GITHUB_REPOSITORY"), e.get("GITHUB_RUN_ID")) {
        (Some(repo), Some(run)) => {
            let server = e.get("GITHUB_SERVER_URL");
            let server = server.as_deref().unwrap_or("https://github.com");
            Some(format!(
                "{}/{repo}/actions/runs/{run}",
                server.trim_end_matches('/')
            ))
        }
        _ => None,
    };
    (
        e.name("GITHUB_WORKFLOW", "GITHUB_RUN_NUMBER", Some("GITHUB_JOB")),
        url,
        e.get("GITHUB_SHA"),
    )
}

fn gitlab(e: &Env<'_>) -> Parts {
    (
        e.name("CI_PROJECT_PATH", "CI_PIPELINE_IID", Some("CI_JOB_NAME")),
        e.get("CI_JOB_URL").or_else(|| e.get("CI_PIPELINE_URL")),
        e.get("CI_COMMIT_SHA"),
    )
}

fn azure(e: &Env<'_>) -> Parts {
    let url = match (
        e.get("SYSTEM_COLLECTIONURI"),
        e.get("SYSTEM_TEAMPROJECT"),
        e.get("BUILD_BUILDID"),
    ) {
        (Some(base), Some(project), Some(id)) => Some(format!(
            "{}/{}/_build/results?buildId={id}",
            base.trim_end_matches('/'),
            project.replace(' ', "%20")
        )),
        _ => None,
    };
    (
        e.name(
            "BUILD_DEFINITIONNAME",
            "BUILD_BUILDNUMBER",
            Some("SYSTEM_JOBDISPLAYNAME"),
        ),
        url,
        e.get("BUILD_SOURCEVERSION"),
    )
}

fn jenkins(e: &Env<'_>) -> Parts {
    (
        e.name("JOB_NAME", "BUILD_NUMBER", None),
        e.get("BUILD_URL"),
        e.get("GIT_COMMIT"),
    )
}

fn circleci(e: &Env<'_>) -> Parts {
    (
        e.name(
            "CIRCLE_PROJECT_REPONAME",
            "CIRCLE_BUILD_NUM",
            Some("CIRCLE_JOB"),
        ),
        e.get("CIRCLE_BUILD_URL"),
        e.get("CIRCLE_SHA1"),
    )
}

fn bitbucket(e: &Env<'_>) -> Parts {
    let url = e.get("BITBUCKET_REPO_FULL_NAME").map(|repo| {
        format!(
            "https://bitbucket.org/{repo}/pipelines/results/{}",
            e.v("BITBUCKET_BUILD_NUMBER")
        )
    });
    (
        e.name("BITBUCKET_REPO_FULL_NAME", "BITBUCKET_BUILD_NUMBER", None),
        url,
        e.get("BITBUCKET_COMMIT"),
    )
}

impl CiRun {
    /// One line for a build's description: `GitHub Actions: tests #42 job spira, URL`.
    pub(crate) fn line(&self) -> String {
        match &self.url {
            Some(u) => format!("{}: {} ({u})", self.system, self.name),
            None => format!("{}: {}", self.system, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(vars: &[(&str, &str)]) -> Option<CiRun> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        detect(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn each_ci_system_gives_its_name_page_and_commit() {
        type Row<'a> = (
            &'a [(&'a str, &'a str)],
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
        );
        let table: &[Row<'_>] = &[
            (
                &[
                    ("GITHUB_ACTIONS", "true"),
                    ("GITHUB_WORKFLOW", "tests"),
                    ("GITHUB_RUN_NUMBER", "42"),
                    ("GITHUB_JOB", "spira"),
                    ("GITHUB_SERVER_URL", "https://github.com"),
                    ("GITHUB_REPOSITORY", "acme/shop"),
                    ("GITHUB_RUN_ID", "9001"),
                    ("GITHUB_SHA", "abc123"),
                ],
                "GitHub Actions",
                "tests #42 job spira",
                Some("https://github.com/acme/shop/actions/runs/9001"),
                Some("abc123"),
            ),
            (
                &[
                    ("GITLAB_CI", "true"),
                    ("CI_PROJECT_PATH", "acme/shop"),
                    ("CI_PIPELINE_IID", "7"),
                    ("CI_JOB_NAME", "spira"),
                    ("CI_JOB_URL", "https://gitlab.com/acme/shop/-/jobs/55"),
                    ("CI_COMMIT_SHA", "def456"),
                ],
                "GitLab CI",
                "acme/shop #7 job spira",
                Some("https://gitlab.com/acme/shop/-/jobs/55"),
                Some("def456"),
            ),
            (
                &[
                    ("TF_BUILD", "True"),
                    ("BUILD_DEFINITIONNAME", "shop-ci"),
                    ("BUILD_BUILDNUMBER", "20261207.3"),
                    ("SYSTEM_JOBDISPLAYNAME", "upload"),
                    ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
                    ("SYSTEM_TEAMPROJECT", "Shop Web"),
                    ("BUILD_BUILDID", "311"),
                    ("BUILD_SOURCEVERSION", "0a1b"),
                ],
                "Azure Pipelines",
                "shop-ci #20261207.3 job upload",
                Some("https://dev.azure.com/acme/Shop%20Web/_build/results?buildId=311"),
                Some("0a1b"),
            ),
            (
                &[
                    ("JENKINS_URL", "https://ci.acme/"),
                    ("JOB_NAME", "shop/main"),
                    ("BUILD_NUMBER", "88"),
                    ("BUILD_URL", "https://ci.acme/job/shop/job/main/88/"),
                    ("GIT_COMMIT", "feed"),
                ],
                "Jenkins",
                "shop/main #88",
                Some("https://ci.acme/job/shop/job/main/88/"),
                Some("feed"),
            ),
            (
                &[
                    ("CIRCLECI", "true"),
                    ("CIRCLE_PROJECT_REPONAME", "shop"),
                    ("CIRCLE_BUILD_NUM", "12"),
                    ("CIRCLE_JOB", "test"),
                    ("CIRCLE_BUILD_URL", "https://circleci.com/gh/acme/shop/12"),
                    ("CIRCLE_SHA1", "c0ffee"),
                ],
                "CircleCI",
                "shop #12 job test",
                Some("https://circleci.com/gh/acme/shop/12"),
                Some("c0ffee"),
            ),
            (
                &[
                    ("BITBUCKET_BUILD_NUMBER", "5"),
                    ("BITBUCKET_REPO_FULL_NAME", "acme/shop"),
                    ("BITBUCKET_COMMIT", "beef"),
                ],
                "Bitbucket Pipelines",
                "acme/shop #5",
                Some("https://bitbucket.org/acme/shop/pipelines/results/5"),
                Some("beef"),
            ),
        ];
        for (vars, system, name, url, rev) in table {
            let r = run(vars).unwrap_or_else(|| panic!("{system} not told"));
            assert_eq!(
                (
                    r.system,
                    r.name.as_str(),
                    r.url.as_deref(),
                    r.revision.as_deref()
                ),
                (*system, *name, *url, *rev)
            );
        }
    }

    #[test]
    fn outside_ci_or_with_little_set_it_says_what_it_has() {
        assert_eq!(run(&[("PATH", "/bin"), ("GITHUB_ACTIONS", "")]), None);
        let r = run(&[("GITHUB_ACTIONS", "true")]).unwrap();
        assert_eq!(
            (r.name.as_str(), r.url.as_deref(), r.revision.as_deref()),
            ("GitHub Actions", None, None)
        );
        assert_eq!(r.line(), "GitHub Actions: GitHub Actions");
    }
}
