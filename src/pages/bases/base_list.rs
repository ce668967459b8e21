//! The base tree with its coverage chart and export link, and a base's page with its funnel.

use super::*;

// ---------- Public: the base tree and list ----------

#[derive(Clone, Debug)]
pub struct TreeNode {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub level_label: &'static str,
    pub children: Vec<TreeNode>,
}

fn tree_nodes(lang: Lang, nodes: &[BaseNode]) -> Vec<TreeNode> {
    nodes
        .iter()
        .map(|n| TreeNode {
            id: n.id,
            name: n.name.clone(),
            level: n.level.clone(),
            level_label: level_label(lang, &n.level),
            children: tree_nodes(lang, &n.children),
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct BaseRowV {
    pub id: i64,
    pub name: String,
    pub level_label: &'static str,
    pub area: String,
    pub operator: String,
    pub seats: i32,
}

#[derive(Template)]
#[template(path = "pages/registry/bases_index.html")]
struct BasesPage {
    ctx: PageCtx,
    tree: Vec<TreeNode>,
    coverage: Vec<Bar>,
    by_level: Vec<(&'static str, i64)>,
    rows: Vec<BaseRowV>,
    q: String,
    level: String,
    street: String,
    levels: Vec<(&'static str, &'static str)>,
    streets: Vec<(String, String)>,
    pager: Pager,
    can_manage: bool,
    export_link: String,
}

pub(super) fn level_options(lang: Lang) -> Vec<(&'static str, &'static str)> {
    Level::ALL
        .iter()
        .map(|l| (l.as_str(), lang.pick(l.label_zh(), l.label_en())))
        .collect()
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct BaseListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    street_id: String,
    page: Option<i64>,
}

pub(super) async fn bases_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<BaseListQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let lang = ctx.lang;
    let q = q.into_inner();
    let filter = BaseFilter {
        level: Some(q.level.clone()).filter(|s| !s.is_empty()),
        street_id: q.street_id.trim().parse().ok(),
        q: Some(q.q.clone()),
        page: q.page,
        per_page: Some(20),
    };
    let f2 = filter.clone();
    let (tree, cov, list, streets) = state
        .run(move |c| {
            Ok((
                bases::tree(c)?,
                bases::coverage(c)?,
                bases::list(c, &f2)?,
                areas::list_streets(c)?,
            ))
        })
        .await
        .map_err(page_err(lang))?;
    let pager = Pager::new(
        "/bases",
        &[
            ("q", q.q.clone()),
            ("level", q.level.clone()),
            ("street_id", q.street_id.clone()),
        ],
        &list,
    );
    let coverage = vec![
        Bar {
            key: "streets".into(),
            label: ctx.t("bases.cov_streets").into(),
            class: crate::http::page::bar_class(cov.street_pct, 100),
            value: format!(
                "{}% ({}/{})",
                cov.street_pct, cov.streets_covered, cov.streets_total
            ),
        },
        Bar {
            key: "communities".into(),
            label: ctx.t("bases.cov_communities").into(),
            class: crate::http::page::bar_class(cov.community_pct, 100),
            value: format!(
                "{}% ({}/{})",
                cov.community_pct, cov.communities_covered, cov.communities_total
            ),
        },
    ];
    let export_link = list_link(
        "/api/v1/bases/export",
        &[
            ("q", q.q.trim().to_string()),
            ("level", q.level.clone()),
            (
                "street_id",
                filter.street_id.map(|s| s.to_string()).unwrap_or_default(),
            ),
        ],
    );
    let page = BasesPage {
        tree: tree_nodes(lang, &tree),
        coverage,
        by_level: cov
            .bases_by_level
            .iter()
            .map(|c| (level_label(lang, &c.level), c.bases))
            .collect(),
        rows: list
            .items
            .into_iter()
            .map(|b| BaseRowV {
                id: b.id,
                level_label: level_label(lang, &b.level),
                area: b
                    .community_name
                    .clone()
                    .or(b.street_name.clone())
                    .unwrap_or_default(),
                operator: b.operator_name.clone().unwrap_or_default(),
                seats: b.seats,
                name: b.name,
            })
            .collect(),
        q: q.q,
        level: q.level,
        street: q.street_id,
        levels: level_options(lang),
        streets: streets
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect(),
        pager,
        can_manage: can_manage(&ctx),
        export_link,
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Clone, Debug)]
pub struct IncubateeV {
    pub name: String,
    pub state_label: &'static str,
    pub stage_label: &'static str,
    pub mode_label: &'static str,
    pub start_on: String,
    pub planned_end: String,
}

#[derive(Template)]
#[template(path = "pages/registry/bases_detail.html")]
struct BasePage {
    ctx: PageCtx,
    b: bases::BaseView,
    level_label: &'static str,
    modes: String,
    services: Vec<String>,
    children: Vec<BaseRowV>,
    funnel: Vec<Bar>,
    incubatees: Vec<IncubateeV>,
    can_manage: bool,
}

/// A vocabulary label in the page's language (the one lookup, `domain::vocab::label`).
pub(super) fn static_label(list: crate::domain::vocab::Vocab, key: &str, lang: Lang) -> String {
    crate::domain::vocab::label(list, key, lang == Lang::Zh)
}

pub(super) async fn base_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: PageCtx,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let ctx = with_caller(&req, ctx).await;
    let lang = ctx.lang;
    let id = path.into_inner();
    let d = state
        .run(move |c| bases::detail(c, id))
        .await
        .map_err(page_err(lang))?;
    let mut modes = Vec::new();
    if d.base.onsite {
        modes.push(lang.pick(Mode::Onsite.label_zh(), Mode::Onsite.label_en()));
    }
    if d.base.virtual_mode {
        modes.push(lang.pick(Mode::Virtual.label_zh(), Mode::Virtual.label_en()));
    }
    let page = BasePage {
        level_label: level_label(lang, &d.base.level),
        modes: modes.join(lang.pick("、", ", ")),
        services: d
            .base
            .services
            .iter()
            .map(|s| static_label(SERVICES, s, lang))
            .collect(),
        children: d
            .children
            .iter()
            .map(|b| BaseRowV {
                id: b.id,
                name: b.name.clone(),
                level_label: level_label(lang, &b.level),
                area: b
                    .community_name
                    .clone()
                    .or(b.street_name.clone())
                    .unwrap_or_default(),
                operator: b.operator_name.clone().unwrap_or_default(),
                seats: b.seats,
            })
            .collect(),
        funnel: funnel_bars(lang, &d.funnel),
        incubatees: d
            .incubatees
            .iter()
            .map(|i| IncubateeV {
                name: i.name.clone(),
                state_label: state_label(lang, &i.state),
                stage_label: i
                    .stage
                    .as_deref()
                    .and_then(Stage::parse)
                    .map(|s| lang.pick(s.label_zh(), s.label_en()))
                    .unwrap_or(""),
                mode_label: i
                    .mode
                    .as_deref()
                    .and_then(Mode::parse)
                    .map(|s| lang.pick(s.label_zh(), s.label_en()))
                    .unwrap_or(""),
                start_on: i.start_on.map(|d| d.to_string()).unwrap_or_default(),
                planned_end: i.planned_end.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
        b: d.base,
        can_manage: can_manage(&ctx),
        ctx: ctx.clone(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}
