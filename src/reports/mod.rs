//! Reports (issue 13): the district's 三社联动 report as data (`three_society::gather`, the same figures
//! the API shows elsewhere), as a PDF (`pdf`, drawn by `crate::pdf`) and as a web page (`pages::reports`);
//! the documents: the contract statement (`contract_statement`), the award notice, award letter,
//! evaluation report and bid receipt (`tender_documents`) and the audit report (`audit`); the district at
//! a glance for the public home page (`district`).

pub mod audit;
pub mod contract_statement;
pub mod district;
pub mod prose;
pub mod tender_documents;
pub mod texts;
pub mod three_society;

use std::sync::Arc;

use crate::domain::people::Count;
use crate::money::yuan_grouped;
use crate::pdf::{Bar, Column, Footer, Meta, ReportFont, Writer};
use three_society::ThreeSociety;

/// An amount as a report prints it: ¥1,234,567.89.
pub fn yuan(fen: i64) -> String {
    if fen < 0 {
        format!("-¥{}", yuan_grouped(-fen))
    } else {
        format!("¥{}", yuan_grouped(fen))
    }
}

/// A stored instant (naive UTC) as Beijing time: 2025-04-10 14:30.
pub fn beijing_time(at: chrono::NaiveDateTime) -> String {
    at.and_utc()
        .with_timezone(&crate::clock::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A hash (hex) in groups of eight, so it wraps in a line or a table cell and reads aloud; the text
/// without the spaces is the hash.
pub fn grouped(h: &str) -> String {
    h.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// 万元 with two decimals, for chart axes (exact: integer arithmetic).
fn wan(fen: i64) -> String {
    let hundredths = (fen + 50_000) / 100_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn visits_people(c: &Count) -> [String; 3] {
    [
        c.visits.to_string(),
        c.anonymous.to_string(),
        c.people.to_string(),
    ]
}

/// The footer of every page: when, for what, and from which state of the ledger.
pub fn footer(
    filters: &str,
    digest: &crate::ledger::Digest,
    now: chrono::DateTime<chrono::Utc>,
) -> Footer {
    let hash = digest.hash.get(..16).unwrap_or(&digest.hash);
    Footer {
        generated_at: now
            .with_timezone(&crate::clock::shanghai())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        filters: filters.to_string(),
        ledger: format!("账本 #{} {}…", digest.seq, hash),
    }
}

/// Gather the 三社联动 report and draw it: the figures and the PDF's bytes.
pub fn three_society(
    conn: &mut crate::db::DbConn,
    config: &crate::config::Config,
    f: &three_society::ReportFilter,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ThreeSociety, Vec<u8>), crate::error::AppError> {
    let people = crate::people::Ctx::from_config(config);
    let r = three_society::gather(conn, &people, &config.ledger, f)?;
    let pdf = three_society_pdf(&config.report_font, &r, &config.issuer, now);
    Ok((r, pdf))
}

/// The 三社联动 report as a PDF.
pub fn three_society_pdf(
    font: &Arc<ReportFont>,
    r: &ThreeSociety,
    issuer: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<u8> {
    let title = prose::title(r);
    let meta = Meta {
        title: title.clone(),
        author: issuer.to_string(),
        subject: format!("社区、社会组织、社会工作者联动：{}", r.filters),
        keywords: vec![
            "三社联动".into(),
            "政府购买服务".into(),
            r.period.name.clone(),
        ],
    };
    let date = now
        .with_timezone(&crate::clock::shanghai())
        .format("%Y年%-m月%-d日")
        .to_string();
    crate::pdf::render(font, &meta, &footer(&r.filters, &r.digest, now), now, |w| {
        w.cover(&title, &format!("（{}）", r.filters), issuer, &date);
        w.contents_page();
        overview(w, r);
        measures(w, r);
        results(w, r);
        w.new_page();
        w.heading(1, "四、存在的问题");
        w.paragraph(prose::written(&r.problems));
        w.heading(1, "五、下一步工作打算");
        w.paragraph(prose::written(&r.next_steps));
        appendices(w, r);
    })
}

fn count_rows(t: &[three_society::Tally]) -> Vec<Vec<String>> {
    t.iter()
        .map(|x| vec![x.label.clone(), x.count.to_string()])
        .collect()
}

fn overview(w: &mut Writer, r: &ThreeSociety) {
    w.heading(1, "一、总体情况");
    w.paragraph(&prose::overview(r));
    w.heading(2, "（一）社会组织");
    w.table(
        "表1 社会组织登记情况",
        &[
            Column::left("登记状态", 0.6),
            Column::right("数量（家）", 0.4),
        ],
        &count_rows(&r.organisations),
    );
    w.heading(2, "（二）孵化基地");
    w.table(
        "表2 孵化基地分级情况",
        &[Column::left("层级", 0.6), Column::right("数量（个）", 0.4)],
        &count_rows(&r.bases_by_level),
    );
    w.heading(2, "（三）社会工作者");
    w.table(
        "表3 持证社会工作者",
        &[Column::left("证书等级", 0.6), Column::right("人数", 0.4)],
        &count_rows(&r.workers_by_level),
    );
}

fn measures(w: &mut Writer, r: &ThreeSociety) {
    w.heading(1, "二、主要举措");
    w.heading(2, "（一）社会组织孵化");
    w.table(
        "表4 孵化情况",
        &[Column::left("环节", 0.6), Column::right("数量（家）", 0.4)],
        &count_rows(&r.funnel),
    );
    let bars: Vec<Bar> = r
        .funnel
        .iter()
        .map(|t| Bar {
            label: t.label.clone(),
            value: t.count,
            shown: t.count.to_string(),
        })
        .collect();
    w.bar_chart("图1 孵化漏斗", &bars, &|v| v.to_string());
    w.heading(2, "（二）政府购买服务");
    w.paragraph(&prose::purchased(r));
    purchased(
        w,
        &r.purchased_by_field,
        ("表5 购买服务按领域", "服务领域"),
        "图2 资金按领域（万元）",
        false,
    );
    purchased(
        w,
        &r.purchased_by_street,
        ("表6 购买服务按街道（跨街道项目分别计入各街道）", "街道"),
        "图3 项目与资金按街道（万元）",
        true,
    );
}

/// Purchased services by field or street: the table, then the chart of funds (with the projects on each
/// bar when `with_projects`).
fn purchased(
    w: &mut Writer,
    list: &[three_society::Purchased],
    (caption, key): (&str, &str),
    chart: &str,
    with_projects: bool,
) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|p| vec![p.label.clone(), p.projects.to_string(), yuan(p.funds_fen)])
        .collect();
    w.table(
        caption,
        &[
            Column::left(key, 0.4),
            Column::right("项目（个）", 0.25),
            Column::right("合同金额（元）", 0.35),
        ],
        &rows,
    );
    let bars: Vec<Bar> = list
        .iter()
        .map(|p| Bar {
            label: p.label.clone(),
            value: p.funds_fen,
            shown: if with_projects {
                format!("{}项 {}", p.projects, wan(p.funds_fen))
            } else {
                wan(p.funds_fen)
            },
        })
        .collect();
    w.bar_chart(chart, &bars, &|v| wan(v));
}

fn people_table(w: &mut Writer, caption: &str, key: &str, lines: &[crate::people::counts::Line]) {
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let [v, a, p] = visits_people(&l.count);
            vec![l.label.clone(), v, a, p]
        })
        .collect();
    w.table(
        caption,
        &[
            Column::left(key, 0.34),
            Column::right("人次", 0.22),
            Column::right("其中匿名人次", 0.22),
            Column::right("人数", 0.22),
        ],
        &rows,
    );
}

fn results(w: &mut Writer, r: &ThreeSociety) {
    w.heading(1, "三、工作成效");
    w.heading(2, "（一）资金执行");
    w.paragraph(&prose::funds(r));
    w.heading(2, "（二）服务对象");
    w.paragraph(&prose::people(r));
    people_table(
        w,
        "表7 服务人次与人数按领域",
        "服务领域",
        &r.people_by_field,
    );
    people_table(w, "表8 服务人次与人数按街道", "街道", &r.people_by_street);
    people_table(w, "表9 服务人次与人数按月份", "月份", &r.people_by_month);
    let bars: Vec<Bar> = r
        .people_by_month
        .iter()
        .map(|l| Bar {
            label: l.label.get(5..).unwrap_or(&l.label).to_string() + "月",
            value: l.count.visits,
            shown: l.count.visits.to_string(),
        })
        .collect();
    w.bar_chart("图4 服务人次按月份", &bars, &|v| v.to_string());
    w.heading(2, "（三）绩效与满意度");
    w.table(
        "表10 项目绩效等级",
        &[Column::left("等级", 0.6), Column::right("项目（个）", 0.4)],
        &count_rows(&r.grades),
    );
    w.paragraph(&prose::satisfaction(r));
}

fn appendices(w: &mut Writer, r: &ThreeSociety) {
    w.new_page();
    w.heading(1, "附录");
    let rows: Vec<Vec<String>> = r
        .projects
        .iter()
        .map(|p| {
            vec![
                format!("{}\n{}", p.title, p.contract_no),
                p.field.clone(),
                format!(
                    "{}\n{}",
                    p.provider,
                    p.credit_code.clone().unwrap_or_default()
                ),
                yuan(p.amount_fen),
                yuan(p.paid_fen),
                p.count.visits.to_string(),
                p.count.people.to_string(),
                p.grade.clone().unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    w.table(
        "附表1 项目清单",
        &[
            Column::left("项目名称", 0.22),
            Column::left("领域", 0.09),
            Column::left("承接机构与统一社会信用代码", 0.22),
            Column::right("合同金额", 0.13),
            Column::right("已支付", 0.12),
            Column::right("人次", 0.08),
            Column::right("人数", 0.08),
            Column::left("等级", 0.06),
        ],
        &rows,
    );
    let rows: Vec<Vec<String>> = r
        .workers
        .iter()
        .map(|x| {
            let mut v = vec![x.organisation.clone()];
            v.extend(x.levels.iter().map(|n| n.to_string()));
            v
        })
        .collect();
    w.table(
        "附表2 持证社会工作者（按机构与等级）",
        &[
            Column::left("机构", 0.46),
            Column::right("助理社会工作师", 0.18),
            Column::right("社会工作师", 0.18),
            Column::right("高级社会工作师", 0.18),
        ],
        &rows,
    );
    let rows: Vec<Vec<String>> = r
        .bases
        .iter()
        .map(|b| {
            vec![
                b.name.clone(),
                b.level.clone(),
                b.place.clone(),
                b.seats.to_string(),
                b.incubating.to_string(),
            ]
        })
        .collect();
    w.table(
        "附表3 孵化基地",
        &[
            Column::left("名称", 0.36),
            Column::left("层级", 0.12),
            Column::left("所在街道社区", 0.28),
            Column::right("工位", 0.1),
            Column::right("在孵", 0.14),
        ],
        &rows,
    );
}
