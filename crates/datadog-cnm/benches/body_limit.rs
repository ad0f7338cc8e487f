//! Peak heap while the client refuses a 230 MB response (the default limit is 64 MiB),
//! measured with a counting global allocator: once announced in `Content-Length` (refused
//! unread), once streamed without a length (read up to the limit, then refused). Not a
//! criterion benchmark: it prints one line per case.
//!
//! `cargo bench -p datadog-cnm --bench body_limit`

#[path = "support/client.rs"]
mod client;
use datadog_cnm::{Error, Window};
use datadog_cnm_mock::{CustomResponse, Fault, MockServer};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

const HUGE: u64 = 230_000_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let body = CustomResponse::new(200)
            .header("content-type", "application/vnd.api+json")
            .body(r#"{"data":[],"x":""#);
        let server = MockServer::builder()
            .fault(Fault::Respond {
                response: body.clone().repeated_to(HUGE),
                times: 1,
            })
            .fault(Fault::Respond {
                response: body.repeated_to(HUGE).chunked(),
                times: 1,
            })
            .start()
            .await
            .unwrap_or_else(|e| panic!("mock: {e}"));
        let client = client::client_for(&server);
        let window = Window::from_unix(1_790_000_000, 1_790_000_900)
            .unwrap_or_else(|e| panic!("window: {e}"));
        for case in ["announced", "streamed"] {
            let before = HEAP.current_usage();
            HEAP.reset_peak_usage();
            let started = std::time::Instant::now();
            let result = client.connections().window(window).send().await;
            let peak = HEAP.peak_usage().saturating_sub(before);
            let refused = matches!(result, Err(Error::BodyTooLarge { .. }));
            if !refused {
                eprintln!("{result:?}");
            }
            println!(
                "body_limit/{case}: a {:.0} MB body {} in {:.2} s; peak heap {:.1} MB (limit {} MiB)",
                HUGE as f64 / 1e6,
                if refused { "refused" } else { "NOT refused" },
                started.elapsed().as_secs_f64(),
                peak as f64 / 1e6,
                64
            );
        }
    });
}
