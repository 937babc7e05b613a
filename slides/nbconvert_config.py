"""nbconvert settings of `make slides`: executed decks that load nothing from the network.

Every URL is relative to the deck (slides/NN_name.slides.html), into node_modules/ that `npm ci` fills from
package-lock.json, so the folder works from a USB stick in a lecture room with no network.
"""
from nbconvert.preprocessors import ExecutePreprocessor

from course_lib.running_notebooks import SlicedKernelManager


class ExecuteKeepingWidgetState(ExecutePreprocessor):
    """nbconvert's executor without its stand-in for ipywidgets' Output widget.

    The stand-in's replies to the kernel stall every interact cell until the cell timeout (jupyter/nbclient#312).
    Without it the widgets' state is still recorded (the deck draws the sliders from it) and an interact's
    first figure lands in the cell's outputs, where the deck shows it under its sliders.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget_registry = {}


c = get_config()  # noqa: F821 (nbconvert's config loader defines it)

ASSETS = "node_modules"
c.SlidesExporter.template_name = "offline_reveal"
c.SlidesExporter.extra_template_basedirs = ["slides"]
c.SlidesExporter.reveal_url_prefix = f"{ASSETS}/reveal.js"
c.SlidesExporter.reveal_theme = "white"  # its fonts ship with reveal.js; 'simple' imports web fonts
c.SlidesExporter.reveal_scroll = True  # a tall slide scrolls instead of being cut off
c.SlidesExporter.jquery_url = f"{ASSETS}/jquery/dist/jquery.min.js"
c.SlidesExporter.require_js_url = f"{ASSETS}/requirejs/require.js"
c.SlidesExporter.mathjax_url = f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
c.SlidesExporter.widget_renderer_url = f"{ASSETS}/@jupyter-widgets/html-manager/dist/embed-amd.js"
c.SlidesExporter.exclude_input_prompt = True
c.SlidesExporter.exclude_output_prompt = True

c.SlidesExporter.preprocessors = [ExecuteKeepingWidgetState]
c.ExecuteKeepingWidgetState.enabled = True
c.ExecuteKeepingWidgetState.timeout = 600
# Its waits for the kernel in slices: a missed wake-up stalled a cell until the timeout (course_lib.running_notebooks).
c.ExecuteKeepingWidgetState.kernel_manager_class = SlicedKernelManager
c.ExecuteKeepingWidgetState.store_widget_state = True  # the widgets' last state, so the deck shows them
