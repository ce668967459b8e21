//! The bureau's tender form: a draft created or edited, with criteria, instalments, eligibility, areas.

use super::*;

// ---------------------------------------------------------------------------------------------------------
// The tender form

const CRITERIA_ROWS: usize = 6;

const INSTALMENT_ROWS: usize = 4;

#[derive(Clone, Debug, Default)]
struct CritRow {
    key: String,
    name: String,
    category: String,
    max_points: String,
}

#[derive(Clone, Debug, Default)]
struct InstRow {
    milestone: String,
    pct: String,
}

/// The tender form as typed (strings, so a bad number is shown back as typed).
#[derive(Clone, Debug, Default)]
struct TenderForm {
    code: String,
    title: String,
    description: String,
    field: String,
    street_ids: Vec<i64>,
    community_ids: Vec<i64>,
    budget: String,
    method: String,
    term_months: String,
    term_reason: String,
    min_rating: String,
    min_certified: String,
    min_certified_share_pct: String,
    supervisor_required: bool,
    min_certificate_level: String,
    price_weight_pct: String,
    /// A fixed price in yuan (empty: none), with price unscored.
    fixed_price: String,
    tie_break: String,
    criteria: Vec<CritRow>,
    visits: String,
    people: String,
    sessions: String,
    satisfaction_pct: String,
    instalments: Vec<InstRow>,
    invited: Vec<i64>,
    /// 单一来源: the ground (政府采购法 Art 31) and the explanation.
    ss_ground: String,
    ss_explanation: String,
    enquiry_deadline: String,
    bid_deadline: String,
    opening_at: String,
    documents_from: String,
    documents_until: String,
    /// The version the form was opened with (`crate::version`).
    version: String,
}

/// The form's fields by their JSON key, for the notice of a change made meanwhile.
const LABELS: &[(&str, &str)] = &[
    ("code", "tenders.code"),
    ("title", "tenders.name"),
    ("description", "tenders.description"),
    ("field", "tenders.field"),
    ("street_ids", "tenders.streets"),
    ("community_ids", "tenders.communities"),
    ("budget", "tenders.budget"),
    ("method", "tenders.method"),
    ("term_months", "tenders.term_months"),
    ("term_reason", "tenders.term_reason"),
    ("eligibility", "tenders.eligibility"),
    ("criteria", "tenders.criteria"),
    ("targets", "tenders.targets"),
    ("instalments", "tenders.instalments"),
    ("invited", "tenders.invited"),
    ("single_source_ground", "ss.ground"),
    ("single_source_explanation", "ss.explanation"),
    ("enquiry_deadline", "tenders.enquiry_deadline"),
    ("bid_deadline", "tenders.bid_deadline"),
    ("opening_at", "tenders.opening_at"),
];

fn opt_num<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

impl TenderForm {
    /// A new tender: an example scoring template and schedule that already sum to 100.
    fn blank() -> TenderForm {
        let crit = |key: &str, name: &str, category: &str, max: &str| CritRow {
            key: key.into(),
            name: name.into(),
            category: category.into(),
            max_points: max.into(),
        };
        let inst = |m: &str, p: &str| InstRow {
            milestone: m.into(),
            pct: p.into(),
        };
        TenderForm {
            method: "open".into(),
            term_months: "12".into(),
            price_weight_pct: "30".into(),
            tie_break: TieBreak::default().as_str().into(),
            criteria: vec![
                crit("plan", "服务方案", "technical", "40"),
                crit("team", "团队与督导", "technical", "20"),
                crit("record", "业绩与信誉", "commercial", "10"),
            ],
            visits: "0".into(),
            people: "0".into(),
            sessions: "0".into(),
            satisfaction_pct: "90".into(),
            instalments: vec![
                inst("合同签订", "30"),
                inst("中期评估", "40"),
                inst("末期验收", "30"),
            ],
            ..Default::default()
        }
    }

    fn from_input(i: &TenderInput) -> TenderForm {
        let e = &i.eligibility;
        TenderForm {
            code: i.code.clone(),
            title: i.title.clone(),
            description: i.description.clone(),
            field: i.field.clone(),
            street_ids: i.street_ids.clone(),
            community_ids: i.community_ids.clone(),
            budget: i.budget.clone(),
            method: i.method.clone(),
            term_months: i.term_months.to_string(),
            term_reason: i.term_reason.clone().unwrap_or_default(),
            min_rating: opt_num(&e.min_rating),
            min_certified: opt_num(&e.min_certified),
            min_certified_share_pct: e
                .min_certified_share_pct
                .map(|d| d.normalize().to_string())
                .unwrap_or_default(),
            supervisor_required: e.supervisor_required,
            min_certificate_level: e.min_certificate_level.clone().unwrap_or_default(),
            price_weight_pct: i.criteria.price_weight_pct.normalize().to_string(),
            fixed_price: i
                .criteria
                .fixed_price_fen
                .map(crate::money::yuan)
                .unwrap_or_default(),
            tie_break: i.criteria.tie_break.as_str().into(),
            criteria: i
                .criteria
                .items
                .iter()
                .map(|k| CritRow {
                    key: k.key.clone(),
                    name: k.name.clone(),
                    category: match k.category {
                        Category::Technical => "technical".into(),
                        Category::Commercial => "commercial".into(),
                    },
                    max_points: k.max_points.normalize().to_string(),
                })
                .collect(),
            visits: i.targets.visits.to_string(),
            people: i.targets.people.to_string(),
            sessions: i.targets.sessions.to_string(),
            satisfaction_pct: i.targets.satisfaction_pct.normalize().to_string(),
            instalments: i
                .instalments
                .iter()
                .map(|x| InstRow {
                    milestone: x.milestone.clone(),
                    pct: x.pct.normalize().to_string(),
                })
                .collect(),
            invited: i.invited.clone(),
            ss_ground: i.single_source_ground.clone().unwrap_or_default(),
            ss_explanation: i.single_source_explanation.clone().unwrap_or_default(),
            enquiry_deadline: i.enquiry_deadline.clone(),
            bid_deadline: i.bid_deadline.clone(),
            opening_at: i.opening_at.clone(),
            documents_from: i.documents_from.clone().unwrap_or_default(),
            documents_until: i.documents_until.clone().unwrap_or_default(),
            version: String::new(),
        }
    }

    /// Read the posted form. Blank criterion and instalment rows are dropped, so the rows shown again and
    /// the service's `criteria.items[i]` / `instalments[i]` errors count the same way.
    fn from_fields(f: &Form) -> TenderForm {
        let mut criteria: Vec<CritRow> = (0..CRITERIA_ROWS)
            .map(|i| CritRow {
                key: f.get(&format!("crit_key_{i}")).trim().to_string(),
                name: f.get(&format!("crit_name_{i}")).trim().to_string(),
                category: f.get(&format!("crit_cat_{i}")),
                max_points: f.get(&format!("crit_max_{i}")).trim().to_string(),
            })
            .filter(|r| !(r.name.is_empty() && r.max_points.is_empty()))
            .collect();
        // Clerks name criteria; the keys the scores are stored under are made here (a row kept from an
        // earlier save keeps its key in a hidden field).
        for i in 0..criteria.len() {
            if criteria[i].key.is_empty() {
                let key = (1..)
                    .map(|n| format!("c{n}"))
                    .find(|k| criteria.iter().all(|r| r.key != *k))
                    .expect("a free key");
                criteria[i].key = key;
            }
        }
        let instalments = (0..INSTALMENT_ROWS)
            .map(|i| InstRow {
                milestone: f.get(&format!("inst_milestone_{i}")).trim().to_string(),
                pct: f.get(&format!("inst_pct_{i}")).trim().to_string(),
            })
            .filter(|r| !(r.milestone.is_empty() && r.pct.is_empty()))
            .collect();
        TenderForm {
            code: f.get("code"),
            title: f.get("title"),
            description: f.get("description"),
            field: f.get("field"),
            street_ids: f.ids("street_ids"),
            community_ids: f.ids("community_ids"),
            budget: f.get("budget"),
            method: f.get("method"),
            term_months: f.get("term_months"),
            term_reason: f.get("term_reason"),
            min_rating: f.get("min_rating"),
            min_certified: f.get("min_certified"),
            min_certified_share_pct: f.get("min_certified_share_pct"),
            supervisor_required: !f.get("supervisor_required").is_empty(),
            min_certificate_level: f.get("min_certificate_level"),
            price_weight_pct: f.get("price_weight_pct"),
            fixed_price: f.get("fixed_price"),
            tie_break: f.get("tie_break"),
            criteria,
            visits: f.get("visits"),
            people: f.get("people"),
            sessions: f.get("sessions"),
            satisfaction_pct: f.get("satisfaction_pct"),
            instalments,
            invited: f.ids("invited"),
            ss_ground: f.get("single_source_ground"),
            ss_explanation: f.get("single_source_explanation"),
            enquiry_deadline: f.get("enquiry_deadline"),
            bid_deadline: f.get("bid_deadline"),
            opening_at: f.get("opening_at"),
            documents_from: f.get("documents_from"),
            documents_until: f.get("documents_until"),
            version: f.get("version"),
        }
    }

    /// The service input, or the field errors of numbers that do not parse (named as the service names
    /// its fields, so they show at the same places). Empty targets mean none, as on the API.
    fn input(&self) -> Result<TenderInput, AppError> {
        let mut errs = Vec::new();
        let opt_text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let term_months = parse_int("term_months", &self.term_months, &mut errs);
        let eligibility = Eligibility {
            min_rating: parse_opt_int("eligibility.min_rating", &self.min_rating, &mut errs),
            min_staff: None,
            min_certified: parse_opt_int(
                "eligibility.min_certified",
                &self.min_certified,
                &mut errs,
            ),
            min_certified_share_pct: parse_opt_decimal(
                "eligibility.min_certified_share_pct",
                &self.min_certified_share_pct,
                &mut errs,
            ),
            supervisor_required: self.supervisor_required,
            min_certificate_level: opt_text(&self.min_certificate_level),
        };
        let price_weight_pct = parse_decimal(
            "criteria.price_weight_pct",
            &self.price_weight_pct,
            &mut errs,
        );
        let fixed_price_fen = if self.fixed_price.trim().is_empty() {
            None
        } else {
            let mut c = crate::error::Checks::new();
            let v = crate::money::check_yuan(
                &mut c,
                "criteria.fixed_price_fen",
                &self.fixed_price,
                true,
            );
            errs.extend(c.errors().iter().cloned());
            v
        };
        let tie_break = TieBreak::parse(&self.tie_break);
        if tie_break.is_none() {
            errs.push(FieldError::new(
                "criteria.tie_break",
                "one_of",
                "请选择并列时的处理方法。",
                "Choose how ties are decided.",
            ));
        }
        let items: Vec<Option<Criterion>> = self
            .criteria
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let field = format!("criteria.items[{i}].max_points");
                parse_decimal(&field, &r.max_points, &mut errs).map(|max_points| Criterion {
                    key: r.key.clone(),
                    name: r.name.clone(),
                    category: if r.category == "commercial" {
                        Category::Commercial
                    } else {
                        Category::Technical
                    },
                    max_points,
                })
            })
            .collect();
        let mut target = |field: &str, s: &str| {
            parse_opt_int(&format!("targets.{field}"), s, &mut errs).unwrap_or_default()
        };
        let (visits, people, sessions) = (
            target("visits", &self.visits),
            target("people", &self.people),
            target("sessions", &self.sessions),
        );
        let satisfaction_pct = parse_opt_decimal(
            "targets.satisfaction_pct",
            &self.satisfaction_pct,
            &mut errs,
        )
        .unwrap_or_default();
        let instalments: Vec<Option<Instalment>> = self
            .instalments
            .iter()
            .enumerate()
            .map(|(i, r)| {
                parse_decimal(&format!("instalments[{i}].pct"), &r.pct, &mut errs).map(|pct| {
                    Instalment {
                        milestone: r.milestone.clone(),
                        pct,
                    }
                })
            })
            .collect();
        let items = items.into_iter().collect::<Option<Vec<_>>>();
        let instalments = instalments.into_iter().collect::<Option<Vec<_>>>();
        let (term_months, ((price_weight_pct, tie_break), (items, instalments))) = checked(
            term_months.zip(price_weight_pct.zip(tie_break).zip(items.zip(instalments))),
            errs,
        )?;
        Ok(TenderInput {
            code: self.code.trim().to_string(),
            title: self.title.clone(),
            description: self.description.clone(),
            field: self.field.clone(),
            street_ids: self.street_ids.clone(),
            community_ids: self.community_ids.clone(),
            budget: self.budget.clone(),
            method: self.method.clone(),
            term_months,
            term_reason: opt_text(&self.term_reason),
            eligibility,
            criteria: Criteria {
                price_weight_pct,
                items,
                tie_break,
                fixed_price_fen,
            },
            targets: Targets {
                visits,
                people,
                sessions,
                satisfaction_pct,
            },
            instalments,
            invited: self.invited.clone(),
            single_source_ground: opt_text(&self.ss_ground),
            single_source_explanation: opt_text(&self.ss_explanation),
            enquiry_deadline: self.enquiry_deadline.clone(),
            bid_deadline: self.bid_deadline.clone(),
            opening_at: self.opening_at.clone(),
            documents_from: Some(self.documents_from.clone()),
            documents_until: Some(self.documents_until.clone()),
        })
    }
}

/// Fields the tender form shows errors at; anything else is listed above the form.
fn shown_on_form(field: &str) -> bool {
    const PLAIN: &[&str] = &[
        "code",
        "title",
        "description",
        "field",
        "street_ids",
        "community_ids",
        "budget",
        "method",
        "term_months",
        "term_reason",
        "criteria",
        "criteria.items",
        "criteria.price_weight_pct",
        "criteria.fixed_price_fen",
        "criteria.tie_break",
        "instalments",
        "invited",
        "single_source_ground",
        "single_source_explanation",
        "enquiry_deadline",
        "bid_deadline",
        "opening_at",
        "documents_from",
        "documents_until",
    ];
    PLAIN.contains(&field)
        || field.starts_with("eligibility.")
        || field.starts_with("targets.")
        || field.starts_with("criteria.items[")
        || field.starts_with("instalments[")
}

#[derive(Template)]
#[template(path = "pages/tenders/form.html")]
struct FormPage {
    ctx: PageCtx,
    id: Option<i64>,
    v: TenderForm,
    errors: FormErrors,
    other_errors: Vec<String>,
    fields: Vec<(String, String)>,
    methods: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    tie_breaks: Vec<(String, String)>,
    streets: Vec<(i64, String)>,
    /// (street name, [(community id, name)])
    communities: Vec<(String, Vec<(i64, String)>)>,
    orgs: Vec<(i64, String)>,
}

impl FormPage {
    fn action(&self) -> String {
        match self.id {
            Some(i) => format!("/tenders/{i}/edit"),
            None => "/tenders/new".into(),
        }
    }
    fn crit_rows(&self) -> Vec<(usize, CritRow)> {
        (0..CRITERIA_ROWS.max(self.v.criteria.len()))
            .map(|i| (i, self.v.criteria.get(i).cloned().unwrap_or_default()))
            .collect()
    }
    fn inst_rows(&self) -> Vec<(usize, InstRow)> {
        (0..INSTALMENT_ROWS.max(self.v.instalments.len()))
            .map(|i| (i, self.v.instalments.get(i).cloned().unwrap_or_default()))
            .collect()
    }
    fn e(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
    /// The lawful grounds of single source (政府采购法 Art 31): (key, label).
    fn ss_grounds(&self) -> Vec<(&'static str, &'static str)> {
        crate::domain::tender::Ground::ALL
            .into_iter()
            .map(|g| (g.as_str(), g.label(self.ctx.lang == crate::i18n::Lang::Zh)))
            .collect()
    }
    fn crit_err(&self, i: &usize, part: &str) -> Option<&str> {
        self.errors.get(&format!("criteria.items[{i}].{part}"))
    }
    fn inst_err(&self, i: &usize, part: &str) -> Option<&str> {
        self.errors.get(&format!("instalments[{i}].{part}"))
    }
    fn has_street(&self, id: &i64) -> bool {
        self.v.street_ids.contains(id)
    }
    fn has_community(&self, id: &i64) -> bool {
        self.v.community_ids.contains(id)
    }
    fn has_invited(&self, id: &i64) -> bool {
        self.v.invited.contains(id)
    }
}

struct FormLists {
    streets: Vec<(i64, String)>,
    communities: Vec<(String, Vec<(i64, String)>)>,
    orgs: Vec<(i64, String)>,
}

async fn form_lists(state: &AppState, lang: Lang) -> Result<FormLists, PageError> {
    state
        .run(|c| {
            use crate::db::schema::{communities as cm, organisations as o, streets as st};
            let streets: Vec<(i64, String)> = st::table
                .order(st::code)
                .select((st::id, st::name))
                .load(c)?;
            let comms: Vec<(i64, i64, String)> = cm::table
                .order(cm::code)
                .select((cm::id, cm::street_id, cm::name))
                .load(c)?;
            let communities = streets
                .iter()
                .map(|(sid, sname)| {
                    (
                        sname.clone(),
                        comms
                            .iter()
                            .filter(|(_, s, _)| s == sid)
                            .map(|(id, _, n)| (*id, n.clone()))
                            .collect::<Vec<_>>(),
                    )
                })
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let orgs = o::table
                .filter(o::registration.eq("registered"))
                .order(o::name)
                .select((o::id, o::name))
                .load(c)?;
            Ok(FormLists {
                streets,
                communities,
                orgs,
            })
        })
        .await
        .map_err(page_err(lang))
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    id: Option<i64>,
    mut v: TenderForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    if let Some(s) = &errors.stale {
        v.version = s.version.clone();
    }
    let lists = form_lists(state, ctx.lang).await?;
    let zh = ctx.lang == Lang::Zh;
    // Errors of fields the form has no place for, in a stable order.
    let mut other: Vec<(&str, &str)> = errors.fields().filter(|(f, _)| !shown_on_form(f)).collect();
    other.sort();
    let other: Vec<String> = other.into_iter().map(|(_, m)| m.to_string()).collect();
    let page = FormPage {
        id,
        v,
        errors,
        other_errors: other,
        fields: crate::pages::orgs::options(ctx.lang, crate::registry::orgs::FIELDS),
        methods: Method::ALL
            .iter()
            .map(|m| (m.as_str().to_string(), m.label(zh).to_string()))
            .collect(),
        levels: crate::pages::orgs::options(ctx.lang, &crate::registry::workers::LEVELS[1..]),
        tie_breaks: TieBreak::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), t.label(zh).to_string()))
            .collect(),
        streets: lists.streets,
        communities: lists.communities,
        orgs: lists.orgs,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, status, &page))
}

pub(super) async fn new_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    form_page(
        &state,
        ctx,
        None,
        TenderForm::blank(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn new_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let v = TenderForm::from_fields(&form);
    let actor = crate::http::actor(&req, &page.user);
    let uid = page.user.id;
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let saved = match v.input() {
        Ok(input) => {
            state
                .run(move |c| tenders::create(c, &tctx, &actor, uid, now, &input))
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(t) => Ok(redirect(
            &format!("/tenders/{}", t.id),
            Some(("ok", ctx.t("tenders.created_ok"))),
        )),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_fields(ctx.lang, &errs);
            form_page(
                &state,
                ctx,
                None,
                v,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn edit_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let input = state
        .run(move |c| {
            tenders::advance(c, &tctx, now, id)?;
            let row = tenders::find_row(c, id)?;
            if row.state() != State::Draft {
                return Err(tenders::wrong_state(
                    row.state(),
                    "只有草稿可以修改。",
                    "only drafts can be edited.",
                ));
            }
            tenders::input_of(c, &row)
        })
        .await;
    match input {
        Ok(i) => {
            let form = TenderForm {
                version: crate::version::of(&i),
                ..TenderForm::from_input(&i)
            };
            form_page(
                &state,
                ctx,
                Some(id),
                form,
                FormErrors::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&format!("/tenders/{id}"), Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}

pub(super) async fn edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    page: Page<BureauOrAdmin>,
    path: web::Path<i64>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    let ctx = ctx.with_user(&page.user);
    let id = path.into_inner();
    let v = TenderForm::from_fields(&form);
    let actor = crate::http::actor(&req, &page.user);
    let (tctx, now) = (state.tenders.clone(), state.clock.now());
    let expect = crate::version::parse(Some(&v.version));
    let (saved, mine) = match v.input() {
        Ok(input) => {
            let mine = input.clone();
            let r = state
                .run(move |c| tenders::update(c, &tctx, &actor, now, id, &input, expect.as_deref()))
                .await;
            (r, Some(mine))
        }
        Err(e) => (Err(e), None),
    };
    match saved {
        Ok(_) => Ok(redirect(
            &format!("/tenders/{id}"),
            Some(("ok", ctx.t("tenders.saved_ok"))),
        )),
        Err(e @ (AppError::Validation(_) | AppError::Stale { .. })) => {
            let (errors, status) =
                FormErrors::of_refusal(&ctx, &e, &mine, LABELS).expect("a form refusal");
            form_page(&state, ctx, Some(id), v, errors, status).await
        }
        Err(e @ AppError::Conflict { .. }) => {
            let m = pick_msg(ctx.lang, &e.message());
            Ok(redirect(&format!("/tenders/{id}"), Some(("error", &m))))
        }
        Err(e) => Err(PageError::App(e, ctx.lang)),
    }
}
