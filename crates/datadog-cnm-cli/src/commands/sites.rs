//! `sites`: the nine Datadog sites and their API URLs.

use std::io::{self, Write};

use datadog_cnm::Site;

use crate::output::Out;

/// Print every site: short name, domain (what `DD_SITE` takes) and API URL.
pub fn run<W: Write>(out: &mut Out<W>) -> io::Result<()> {
    let records: Vec<Vec<String>> = Site::ALL
        .iter()
        .map(|site| {
            vec![
                site.name().to_owned(),
                site.domain().to_owned(),
                site.api_base().to_string(),
            ]
        })
        .collect();
    out.records(&["name", "domain", "api_url"], &records)
}
