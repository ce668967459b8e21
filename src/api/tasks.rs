//! The caller's task queue (`crate::tasks`): what waits for them, oldest first, with due dates.

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::app::AppState;
use crate::error::{AppError, Problem};
use crate::http::caller::{AnyRole, Authed};
use crate::i18n::Lang;
use crate::tasks::TaskView;

/// What waits for the caller: for the bureau, enquiries, incubation applications, change requests,
/// certificates to verify, tenders waiting for a panel, a winner or a result notice, challenges and
/// contracts; for an evaluator, declarations and score sheets; for an organisation, answers, results,
/// incubation decisions and the deadlines of its bids; for finance, payments and spending to review.
/// Labels in the language of the `lang` cookie (Chinese by default), as on the pages.
#[utoipa::path(tag = "tasks", security(("bearer" = [])), responses((status = 200, body = Vec<TaskView>), (status = 401, body = Problem)))]
#[get("/tasks")]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Authed<AnyRole>,
) -> Result<HttpResponse, AppError> {
    let zh = Lang::from_request(&req) == Lang::Zh;
    let (settings, now, by) = (state.tasks.clone(), state.clock.now(), user.user.clone());
    let q = state
        .run(move |c| crate::tasks::queue(c, &settings, &by, now))
        .await?;
    let today = crate::clock::beijing_date(now);
    let v: Vec<TaskView> = q.iter().map(|t| TaskView::of(t, today, zh)).collect();
    Ok(HttpResponse::Ok().json(v))
}
