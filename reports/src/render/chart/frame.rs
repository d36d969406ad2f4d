//! The frame around a chart's data: the mesh (axes, grid lines, labels) in the theme's styles for
//! every chart, and the whole frame of a column chart (legend strip, one segment per column along
//! x, values from 0 up y) with the bars that stand in its columns.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{SegmentedCoord, ValueFormatter};
use plotters::coord::types::{RangedCoordf64, RangedCoordu32};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::theme::Theme;
use super::{Drawn, Swatch};

/// Height of the legend strip above a column chart.
const LEGEND_HEIGHT: u32 = 30;
/// Where the legend starts: above the plot, past the y labels.
const LEGEND_X: i32 = 70;

/// A column chart as drawn on: the column index along x (one segment each), the value up y.
pub(super) type ColumnChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<SegmentedCoord<RangedCoordu32>, RangedCoordf64>>;

/// Starts the mesh of `chart` with the axis, grid and label styles of `theme`; the caller adds
/// what its axes say and draws it.
pub(super) fn mesh<'a, 'b, X, Y, DB>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    theme: &Theme,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
    DB: DrawingBackend,
{
    let mut mesh = chart.configure_mesh();
    mesh.axis_style(theme.ink.mix(0.6))
        .bold_line_style(theme.grid())
        .light_line_style(TRANSPARENT)
        .label_style(theme.font(15.0))
        .axis_desc_style(theme.font_muted(15.0));
    mesh
}

/// Everything of a column chart but its columns.
pub(super) struct Columns<'a> {
    /// The entries of the legend strip.
    pub legend: &'a [(Swatch, &'a str)],
    /// How many columns; an empty chart still has room for one.
    pub columns: usize,
    /// The top of the y axis.
    pub y_top: f64,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// The label under column `i`, empty for none.
    pub x_label: &'a dyn Fn(u32) -> String,
    pub y_label: &'a dyn Fn(&f64) -> String,
}

impl Columns<'_> {
    /// Draws the legend, the axes and the grid, then what `series` draws on them.
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        theme: &Theme,
        series: impl FnOnce(&mut ColumnChart<'_, DB>) -> Drawn<DB>,
    ) -> Drawn<DB> {
        let (legend, body) = root.split_vertically(LEGEND_HEIGHT);
        super::legend(&legend, LEGEND_X, self.legend, theme)?;

        let n = self.columns.max(1) as u32;
        let mut chart = ChartBuilder::on(&body)
            .margin_right(16)
            .margin_bottom(4)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0f64..self.y_top)?;
        mesh(&mut chart, theme)
            .disable_x_mesh()
            .x_labels(n as usize)
            .y_labels(6)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => (self.x_label)(*i),
                _ => String::new(),
            })
            .y_label_formatter(self.y_label)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .draw()?;
        series(&mut chart)
    }
}

/// The bar of column `i`, from 0 up to `value`, `gap` pixels in from each side of its segment.
pub(super) fn column(
    i: usize,
    value: f64,
    style: ShapeStyle,
    gap: u32,
) -> Rectangle<(SegmentValue<u32>, f64)> {
    let mut bar = Rectangle::new(
        [
            (SegmentValue::Exact(i as u32), 0.0),
            (SegmentValue::Exact(i as u32 + 1), value),
        ],
        style,
    );
    bar.set_margin(0, 0, gap, gap);
    bar
}
